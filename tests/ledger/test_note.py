"""Signed notes, checkpoints and cosignatures: the C2SP vectors, round trips, and what is refused."""

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from aicommons.ledger.note import (
    Checkpoint,
    CosignatureVerifier,
    Cosigner,
    NoteError,
    Signer,
    Verifier,
    open_note,
)

NEUMANN_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
NEUMANN_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
NEUMANN_TEXT = (
    "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
)
NEUMANN_LINE = (
    "— PeterNeumann "
    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)
NEUMANN_NOTE = f"{NEUMANN_TEXT}\n{NEUMANN_LINE}"
FOO_VKEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
FOO_NOTE = (  # from C2SP signed-note, "Verifier keys: Example"
    "This is an example message.\n\n— example.com/foo "
    "Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n"
)
ROOT = hashlib.sha256(b"some root").digest()
KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))


def test_the_peter_neumann_note_verifies():
    assert Verifier.from_key(NEUMANN_VKEY).verify(NEUMANN_NOTE) == NEUMANN_TEXT


def test_signing_with_the_private_key_gives_the_same_signature_line():
    signer = Signer.from_key_string(NEUMANN_SKEY)
    assert signer.sign(NEUMANN_TEXT) == NEUMANN_NOTE
    assert signer.verifier_key() == NEUMANN_VKEY
    assert signer.key_id.hex() == "c74f20a3"
    assert signer.key_string() == NEUMANN_SKEY


def test_the_signed_note_spec_example_verifies():
    verifier = Verifier.from_key(FOO_VKEY)
    assert (verifier.name, verifier.key_id.hex()) == ("example.com/foo", "530d903a")
    assert verifier.verify(FOO_NOTE) == "This is an example message.\n"
    assert verifier.verifier_key() == FOO_VKEY


def test_a_note_signed_by_a_new_key_round_trips():
    signer = Signer("commons.example/log", KEY)
    pub = KEY.public_key().public_bytes_raw()
    assert signer.key_id == hashlib.sha256(b"commons.example/log\n\x01" + pub).digest()[:4]
    text = "several\n\nparagraphs, ünïcode\n"
    note = signer.sign(text)
    assert Verifier.from_key(signer.verifier_key()).verify(note) == text
    assert signer.verifier().verify(note) == text
    assert open_note(note) == (text, [(signer.name, signer.key_id, open_note(note)[1][0][2])])


def test_unknown_signers_are_ignored_and_a_missing_one_is_refused():
    other = Signer("someone.else/key", Ed25519PrivateKey.generate())
    note = NEUMANN_NOTE + other.sign(NEUMANN_TEXT).split("\n\n")[-1]
    assert Verifier.from_key(NEUMANN_VKEY).verify(note) == NEUMANN_TEXT
    assert other.verifier().verify(note) == NEUMANN_TEXT
    with pytest.raises(NoteError, match="no signature"):
        Verifier.from_key(FOO_VKEY).verify(NEUMANN_NOTE)


def test_a_tampered_text_is_refused():
    with pytest.raises(NoteError):
        Verifier.from_key(NEUMANN_VKEY).verify(NEUMANN_NOTE.replace("cryptography", "blockchain"))


def test_a_bad_signature_from_the_known_key_refuses_the_whole_note():
    forged = NEUMANN_LINE.replace("x08go/ZJ", "x08go/ZK")
    with pytest.raises(NoteError):
        Verifier.from_key(NEUMANN_VKEY).verify(NEUMANN_NOTE + forged)


def test_a_key_sharing_only_the_name_or_only_the_id_is_ignored():
    impostor = Verifier.from_key(Signer("PeterNeumann", KEY).verifier_key())
    with pytest.raises(NoteError, match="no signature"):
        impostor.verify(NEUMANN_NOTE)


@pytest.mark.parametrize(
    "note",
    [
        NEUMANN_TEXT + NEUMANN_LINE,  # no blank line
        NEUMANN_NOTE[:-1],  # no final newline
        NEUMANN_TEXT + "\n",  # no signature line
        NEUMANN_NOTE.replace("— ", "- "),  # not an em dash
        NEUMANN_NOTE.replace("— PeterNeumann ", "— PeterNeumann  "),  # two spaces
        NEUMANN_NOTE.replace("— PeterNeumann", "— Peter+Neumann"),  # plus in the name
        NEUMANN_NOTE.replace("— PeterNeumann", "— "),  # empty name
        NEUMANN_NOTE.replace("AM=\n", "AM\n"),  # missing padding
        NEUMANN_NOTE.replace("AM=\n", "AN=\n"),  # non-canonical base64
        NEUMANN_NOTE.replace("problem,", "problem,\r"),  # control character
        NEUMANN_NOTE.replace("problem,", "problem,\t"),
        NEUMANN_NOTE + "\n",  # trailing blank line
        "\n\n— PeterNeumann AAAA\n",  # signature without bytes beyond the key ID
        NEUMANN_TEXT + "\n" + NEUMANN_LINE * 101,  # too many signatures
        "x" * 1_000_001 + "\n\n" + NEUMANN_LINE,  # too large
        "\ud800\n\n" + NEUMANN_LINE,  # not UTF-8
    ],
)
def test_malformed_notes_are_refused(note: str):
    with pytest.raises(NoteError):
        Verifier.from_key(NEUMANN_VKEY).verify(note)


def test_sixteen_signatures_are_accepted():
    text = "sixteen\n"
    signers = [Signer(f"signer{i}", Ed25519PrivateKey.generate()) for i in range(16)]
    note = text + "\n" + "".join(s.sign(text).split("\n\n")[-1] for s in signers)
    assert all(s.verifier().verify(note) == text for s in signers)


@pytest.mark.parametrize(
    "vkey",
    [
        "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # wrong key ID
        "PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # not lowercase hex
        "PeterNeumann+c74f20a3+Ahpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # wrong signature type
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10",  # short key
        "PeterNeumann+c74f20a3",
        "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
    ],
)
def test_malformed_verifier_keys_are_refused(vkey: str):
    with pytest.raises(NoteError):
        Verifier.from_key(vkey)


def test_bad_signer_keys_and_texts_are_refused():
    with pytest.raises(NoteError):
        Signer.from_key_string(NEUMANN_SKEY.replace("c74f20a3", "c74f20a4"))
    with pytest.raises(NoteError):
        Signer.from_key_string(NEUMANN_VKEY)
    with pytest.raises(NoteError):
        Signer("has space", KEY)
    for text in ["", "no newline", "bell\a\n"]:
        with pytest.raises(NoteError):
            Signer("commons.example/log", KEY).sign(text)


def test_a_checkpoint_formats_and_parses_back():
    checkpoint = Checkpoint("commons.example/log", 20852163, ROOT)
    body = checkpoint.body()
    assert body == f"commons.example/log\n20852163\n{base64.b64encode(ROOT).decode()}\n"
    assert Checkpoint.parse(body) == checkpoint
    extended = Checkpoint("o", 0, ROOT, ("ext one", "ext two"))
    assert extended.body().endswith("\next one\next two\n")
    assert Checkpoint.parse(extended.body()) == extended


def test_the_spec_checkpoint_parses():
    body = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    checkpoint = Checkpoint.parse(body)
    assert (checkpoint.origin, checkpoint.size, len(checkpoint.root)) == (
        "example.com/behind-the-sofa",
        20852163,
        32,
    )
    assert checkpoint.body() == body


def test_a_signed_checkpoint_round_trips():
    signer = Signer("commons.example/log", KEY)
    checkpoint = Checkpoint("commons.example/log", 5, ROOT)
    assert Checkpoint.parse(signer.verifier().verify(signer.sign(checkpoint.body()))) == checkpoint


GOOD_ROOT = base64.b64encode(ROOT).decode()


@pytest.mark.parametrize(
    "text",
    [
        f"o\n5\n{GOOD_ROOT}",  # no final newline
        f"\n5\n{GOOD_ROOT}\n",  # empty origin
        f"o\n05\n{GOOD_ROOT}\n",  # leading zero
        f"o\n+5\n{GOOD_ROOT}\n",
        f"o\n-5\n{GOOD_ROOT}\n",
        f"o\n5 \n{GOOD_ROOT}\n",
        f"o\n\u0665\n{GOOD_ROOT}\n",  # a non-ASCII digit
        f"o\n{2**64}\n{GOOD_ROOT}\n",  # beyond uint64
        f"o\n\n{GOOD_ROOT}\n",
        "o\n5\n\n",
        f"o\n5\n{base64.b64encode(ROOT[:31]).decode()}\n",  # 31-byte root
        f"o\n5\n{GOOD_ROOT.rstrip('=')}\n",  # unpadded
        f"o\n5\n{GOOD_ROOT}\n\n",  # empty extension line
        f"o\n5\n{GOOD_ROOT}\n\next\n",
        "o\n5\n",
        f"o\r\n5\n{GOOD_ROOT}\n",
    ],
)
def test_malformed_checkpoints_are_refused(text: str):
    with pytest.raises(NoteError):
        Checkpoint.parse(text)


def test_invalid_checkpoints_cannot_be_built():
    for args in [("", 1, ROOT), ("o", -1, ROOT), ("o", 2**64, ROOT), ("o", 1, ROOT[:31]), ("o\n", 1, ROOT)]:
        with pytest.raises(NoteError):
            Checkpoint(*args)  # type: ignore[arg-type]
    with pytest.raises(NoteError):
        Checkpoint("o", 1, ROOT, ("",))


def test_a_cosignature_follows_tlog_cosignature_v1():
    cosigner = Cosigner("witness.example/w1", KEY)
    pub = KEY.public_key().public_bytes_raw()
    assert cosigner.key_id == hashlib.sha256(b"witness.example/w1\n\x04" + pub).digest()[:4]
    vkey_material = base64.b64encode(b"\x04" + pub).decode()
    assert cosigner.verifier_key() == f"witness.example/w1+{cosigner.key_id.hex()}+{vkey_material}"
    checkpoint = Checkpoint("example.com/behind-the-sofa", 20852163, ROOT)
    line = cosigner.cosign(checkpoint, 1679315147)
    assert line.startswith("— witness.example/w1 ") and line.endswith("\n")
    raw = base64.b64decode(line.split(" ")[-1])
    assert raw[:4] == cosigner.key_id and int.from_bytes(raw[4:12], "big") == 1679315147
    message = b"cosignature/v1\ntime 1679315147\n" + checkpoint.body().encode()
    KEY.public_key().verify(raw[12:], message)  # the bytes the spec names, checked without our code
    verifier = CosignatureVerifier.from_key(cosigner.verifier_key())
    assert verifier.verify(checkpoint, line) == 1679315147
    assert verifier.verify(checkpoint, line.rstrip("\n")) == 1679315147


def test_a_cosigned_note_carries_both_signatures():
    log, witness = (
        Signer("commons.example/log", KEY),
        Cosigner("witness.example/w1", Ed25519PrivateKey.generate()),
    )
    checkpoint = Checkpoint("commons.example/log", 7, ROOT)
    note = log.sign(checkpoint.body()) + witness.cosign(checkpoint, 1700000000)
    assert log.verifier().verify(note) == checkpoint.body()
    assert CosignatureVerifier.from_key(witness.verifier_key()).verify_note(note) == (checkpoint, 1700000000)


def test_bad_cosignatures_are_refused():
    cosigner = Cosigner("witness.example/w1", KEY)
    verifier = CosignatureVerifier.from_key(cosigner.verifier_key())
    checkpoint = Checkpoint("o", 7, ROOT)
    line = cosigner.cosign(checkpoint, 1700000000)
    raw = base64.b64decode(line.split(" ")[-1])
    later = raw[:4] + (1700000001).to_bytes(8, "big") + raw[12:]
    for bad_checkpoint, bad_line in [
        (Checkpoint("o", 8, ROOT), line),  # another checkpoint
        (checkpoint, f"— witness.example/w1 {base64.b64encode(later).decode()}\n"),  # another time
        (checkpoint, f"— witness.example/w1 {base64.b64encode(raw[:-1]).decode()}\n"),  # truncated
        (checkpoint, line.replace("w1", "w2")),  # another name
        (
            checkpoint,
            Signer("witness.example/w1", KEY).sign(checkpoint.body()).split("\n\n")[-1],
        ),  # type 0x01
    ]:
        with pytest.raises(NoteError):
            verifier.verify(bad_checkpoint, bad_line)
    with pytest.raises(NoteError):
        cosigner.cosign(checkpoint, 2**63)
    with pytest.raises(NoteError):
        CosignatureVerifier.from_key(Signer("witness.example/w1", KEY).verifier_key())  # a type 0x01 key
    with pytest.raises(NoteError):
        verifier.verify_note(Signer("o", KEY).sign(checkpoint.body()))
