"""Signed notes, checkpoints and Ed25519 cosignatures (C2SP signed-note, tlog-checkpoint, tlog-cosignature).

A note is ``text`` (ending in a newline), a blank line, then signature lines
``— <name> base64(key ID || signature)``. Parsing is strict: valid UTF-8, no control characters but
newline, canonical base64, at most :data:`MAX_SIGNATURES` lines and :data:`MAX_NOTE_BYTES` bytes.
"""

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ED25519 = 0x01  # signature type of plain Ed25519 note signatures
COSIGNATURE_V1 = 0x04  # signature type of timestamped Ed25519 checkpoint cosignatures
MAX_SIGNATURES = 100  # the spec asks verifiers to accept at least 16
MAX_NOTE_BYTES = 1_000_000
MAX_TIMESTAMP = 2**63 - 1
MAX_TREE_SIZE = 2**64 - 1
HASH_SIZE = 32
SIGNATURE_PREFIX = "\u2014 "  # em dash, space
PRIVATE_KEY_PREFIX = "PRIVATE+KEY+"
_DECIMAL = re.compile(r"0|[1-9][0-9]*")
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f]")


class NoteError(ValueError):
    """A note, key, checkpoint or signature that is malformed or does not verify."""


def _b64decode(value: str, what: str) -> bytes:
    """Decode canonical standard base64, or raise NoteError."""
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as err:
        raise NoteError(f"{what} is not valid base64") from err
    if base64.b64encode(raw).decode() != value:
        raise NoteError(f"{what} is not canonical base64")
    return raw


def _b64(raw: bytes) -> str:
    """Standard base64 with padding, as text."""
    return base64.b64encode(raw).decode()


def _check_name(name: str) -> None:
    """Raise unless name is a valid key name: non-empty, no spaces, no plus, no control characters."""
    if not name or "+" in name or any(c.isspace() for c in name) or _CONTROL.search(name):
        raise NoteError(f"{name!r} is not a valid key name")
    _check_utf8(name)


def _check_utf8(text: str) -> bytes:
    """The UTF-8 encoding of text, or NoteError if it holds lone surrogates."""
    try:
        return text.encode()
    except UnicodeEncodeError as err:
        raise NoteError("a note must be valid UTF-8") from err


def _check_text(text: str) -> bytes:
    """The UTF-8 of a note text: non-empty, ending in newline, no control characters but newline."""
    if not text.endswith("\n"):
        raise NoteError("a note text must end with a newline")
    if _CONTROL.search(text):
        raise NoteError("a note must not contain control characters other than newline")
    return _check_utf8(text)


def _key_id(name: str, signature_type: int, public_key: bytes) -> bytes:
    """The 4-byte key ID: SHA-256(name || 0x0A || signature type || public key)[:4]."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([signature_type]) + public_key).digest()[:4]


def _raw_public(key: Ed25519PrivateKey) -> bytes:
    """The 32-byte RFC 8032 encoding of a private key's public key."""
    return key.public_key().public_bytes_raw()


def _vkey(name: str, signature_type: int, public_key: bytes) -> str:
    """The verifier key text: name+hex(key ID)+base64(type || public key)."""
    key_id = _key_id(name, signature_type, public_key)
    return f"{name}+{key_id.hex()}+{_b64(bytes([signature_type]) + public_key)}"


def _parse_key(text: str, signature_type: int, what: str) -> tuple[str, str, bytes]:
    """The name, key ID and key material of name+hex8+base64(type || key) with the given type."""
    parts = text.split("+", 2)
    if len(parts) != 3:
        raise NoteError(f"{what} must be name+keyid+key")
    name, key_hex, key_b64 = parts
    _check_name(name)
    raw = _b64decode(key_b64, what)
    if len(raw) != 33 or raw[0] != signature_type:
        raise NoteError(f"{what} is not a type 0x{signature_type:02x} Ed25519 key")
    return name, key_hex, raw[1:]


def _parse_public(vkey: str, signature_type: int) -> tuple[str, bytes, Ed25519PublicKey]:
    """The name, key ID and public key of a verifier key, whose key ID must match."""
    name, key_hex, raw = _parse_key(vkey, signature_type, "verifier key")
    key_id = _key_id(name, signature_type, raw)
    if key_hex != key_id.hex():
        raise NoteError(f"verifier key ID {key_hex} does not match its key ({key_id.hex()})")
    try:
        return name, key_id, Ed25519PublicKey.from_public_bytes(raw)
    except ValueError as err:
        raise NoteError("verifier key is not an Ed25519 public key") from err


def _signature_line(name: str, payload: bytes) -> str:
    """A signature line, newline included: em dash, space, name, space, base64(payload)."""
    return f"{SIGNATURE_PREFIX}{name} {_b64(payload)}\n"


def _parse_signature_line(line: str) -> tuple[str, bytes, bytes]:
    """The name, key ID and signature of one signature line (without its newline)."""
    if not line.startswith(SIGNATURE_PREFIX):
        raise NoteError("a signature line must start with an em dash and a space")
    name, _, encoded = line[len(SIGNATURE_PREFIX) :].partition(" ")
    _check_name(name)
    raw = _b64decode(encoded, "signature")
    if len(raw) < 5:
        raise NoteError("a signature must hold a key ID and at least one byte")
    return name, raw[:4], raw[4:]


def open_note(note: str) -> tuple[str, list[tuple[str, bytes, bytes]]]:
    """The text of a note and the (name, key ID, signature) of each of its signature lines."""
    if len(_check_utf8(note)) > MAX_NOTE_BYTES:
        raise NoteError(f"a note must not exceed {MAX_NOTE_BYTES} bytes")
    if _CONTROL.search(note):
        raise NoteError("a note must not contain control characters other than newline")
    split = note.rfind("\n\n")
    if split < 0 or not note.endswith("\n"):
        raise NoteError("a note must be text, a blank line and signature lines, each ending in newline")
    text, block = note[: split + 1], note[split + 2 :]
    lines = block[:-1].split("\n") if block else []
    if not lines:
        raise NoteError("a note must have at least one signature line")
    if len(lines) > MAX_SIGNATURES:
        raise NoteError(f"a note must not have more than {MAX_SIGNATURES} signatures")
    return text, [_parse_signature_line(line) for line in lines]


def _verify_ed25519(key: Ed25519PublicKey, signature: bytes, message: bytes) -> None:
    """Raise NoteError unless signature is a valid Ed25519 signature of message by key."""
    try:
        key.verify(signature, message)
    except InvalidSignature as err:
        raise NoteError("signature does not verify") from err


class Verifier:
    """Checks notes signed by one Ed25519 key (signature type 0x01)."""

    def __init__(self, name: str, key_id: bytes, public_key: Ed25519PublicKey) -> None:
        """A verifier for the key named name, with its 4-byte key ID."""
        self.name, self.key_id, self.public_key = name, key_id, public_key

    @classmethod
    def from_key(cls, vkey: str) -> "Verifier":
        """The verifier of a vkey such as ``example.com/foo+530d903a+AekyeRrm...``."""
        return cls(*_parse_public(vkey, ED25519))

    def verifier_key(self) -> str:
        """This key as a vkey: name+hex(key ID)+base64(0x01 || public key)."""
        return _vkey(self.name, ED25519, self.public_key.public_bytes_raw())

    def verify(self, note: str) -> str:
        """The text of note if this key signed it; every line of this key must verify."""
        text, signatures = open_note(note)
        mine = [sig for name, key_id, sig in signatures if name == self.name and key_id == self.key_id]
        if not mine:
            raise NoteError(f"the note has no signature by {self.name}")
        for signature in mine:
            _verify_ed25519(self.public_key, signature, text.encode())
        return text


class Signer:
    """Signs notes with one Ed25519 key (signature type 0x01)."""

    def __init__(self, name: str, key: Ed25519PrivateKey) -> None:
        """A signer for the key named name."""
        _check_name(name)
        self.name, self.key = name, key
        self.key_id = _key_id(name, ED25519, _raw_public(key))

    @classmethod
    def from_key_string(cls, text: str) -> "Signer":
        """The signer of PRIVATE+KEY+name+hex(key ID)+base64(0x01 || seed), as Go's sumdb/note."""
        if not text.startswith(PRIVATE_KEY_PREFIX):
            raise NoteError(f"a signer key starts with {PRIVATE_KEY_PREFIX}")
        name, key_hex, seed = _parse_key(text[len(PRIVATE_KEY_PREFIX) :], ED25519, "signer key")
        signer = cls(name, Ed25519PrivateKey.from_private_bytes(seed))
        if key_hex != signer.key_id.hex():
            raise NoteError(f"signer key ID {key_hex} does not match its key ({signer.key_id.hex()})")
        return signer

    def key_string(self) -> str:
        """This private key as PRIVATE+KEY+name+hex(key ID)+base64(0x01 || seed): keep it secret."""
        seed = self.key.private_bytes_raw()
        return f"{PRIVATE_KEY_PREFIX}{self.name}+{self.key_id.hex()}+{_b64(bytes([ED25519]) + seed)}"

    def verifier_key(self) -> str:
        """The public vkey: name+hex(key ID)+base64(0x01 || public key)."""
        return _vkey(self.name, ED25519, _raw_public(self.key))

    def verifier(self) -> Verifier:
        """The verifier of this signer's notes."""
        return Verifier(self.name, self.key_id, self.key.public_key())

    def sign(self, text: str) -> str:
        """The signed note: text, a blank line, and this key's signature line."""
        message = _check_text(text)
        return f"{text}\n{_signature_line(self.name, self.key_id + self.key.sign(message))}"


@dataclass(frozen=True)
class Checkpoint:
    """A tlog-checkpoint body: origin, tree size, root hash, and optional extension lines."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        """Refuse a checkpoint that has no valid text form."""
        if not 0 <= self.size <= MAX_TREE_SIZE:
            raise NoteError(f"tree size {self.size} is not an unsigned 64-bit integer")
        if len(self.root) != HASH_SIZE:
            raise NoteError(f"root hash is {len(self.root)} bytes, not {HASH_SIZE}")
        for line in (self.origin, *self.extensions):
            if not line or "\n" in line:
                raise NoteError("origin and extension lines must be non-empty single lines")
        _check_text(self.body())

    def body(self) -> str:
        """The note text: origin, decimal size, base64 root, extension lines, each ending in newline."""
        lines = [self.origin, str(self.size), _b64(self.root), *self.extensions]
        return "".join(f"{line}\n" for line in lines)

    @classmethod
    def parse(cls, text: str) -> "Checkpoint":
        """The checkpoint whose note text is text, read strictly."""
        _check_text(text)
        lines = text[:-1].split("\n")
        if len(lines) < 3:
            raise NoteError("a checkpoint has at least three lines: origin, size and root hash")
        origin, size, root, *extensions = lines
        if not _DECIMAL.fullmatch(size):
            raise NoteError(f"tree size {size!r} is not a decimal without leading zeros")
        return cls(origin, int(size), _b64decode(root, "root hash"), tuple(extensions))


def _cosigned_message(checkpoint: Checkpoint, timestamp: int) -> bytes:
    """The message a v1 cosignature signs: header, time line, then the checkpoint body."""
    return f"cosignature/v1\ntime {timestamp}\n{checkpoint.body()}".encode()


class Cosigner:
    """Cosigns checkpoints with tlog-cosignature v1: timestamped Ed25519, signature type 0x04."""

    def __init__(self, name: str, key: Ed25519PrivateKey) -> None:
        """A cosigner for the key named name."""
        _check_name(name)
        self.name, self.key = name, key
        self.key_id = _key_id(name, COSIGNATURE_V1, _raw_public(key))

    def verifier_key(self) -> str:
        """The public vkey: name+hex(key ID)+base64(0x04 || public key)."""
        return _vkey(self.name, COSIGNATURE_V1, _raw_public(self.key))

    def cosign(self, checkpoint: Checkpoint, timestamp: int) -> str:
        """The signature line (newline included) cosigning checkpoint at timestamp (POSIX seconds)."""
        if not 0 <= timestamp <= MAX_TIMESTAMP:
            raise NoteError(f"timestamp {timestamp} is out of range")
        signature = self.key.sign(_cosigned_message(checkpoint, timestamp))
        return _signature_line(self.name, self.key_id + timestamp.to_bytes(8, "big") + signature)


class CosignatureVerifier:
    """Checks tlog-cosignature v1 (type 0x04) cosignatures by one cosigner."""

    def __init__(self, name: str, key_id: bytes, public_key: Ed25519PublicKey) -> None:
        """A verifier for the cosigner named name, with its 4-byte key ID."""
        self.name, self.key_id, self.public_key = name, key_id, public_key

    @classmethod
    def from_key(cls, vkey: str) -> "CosignatureVerifier":
        """The verifier of a cosigner vkey (signature type 0x04)."""
        return cls(*_parse_public(vkey, COSIGNATURE_V1))

    def verify(self, checkpoint: Checkpoint, line: str) -> int:
        """The timestamp of a signature line (trailing newline optional) if it cosigns checkpoint."""
        name, key_id, payload = _parse_signature_line(line.removesuffix("\n"))
        if (name, key_id) != (self.name, self.key_id):
            raise NoteError(f"the line is not a cosignature by {self.name}")
        if len(payload) != 8 + 64:
            raise NoteError("a v1 cosignature is an 8-byte timestamp and a 64-byte signature")
        timestamp = int.from_bytes(payload[:8], "big")
        if timestamp > MAX_TIMESTAMP:
            raise NoteError(f"timestamp {timestamp} is out of range")
        _verify_ed25519(self.public_key, payload[8:], _cosigned_message(checkpoint, timestamp))
        return timestamp

    def verify_note(self, note: str) -> tuple[Checkpoint, int]:
        """The checkpoint of a signed note and the timestamp of this cosigner's line in it."""
        text, signatures = open_note(note)
        checkpoint = Checkpoint.parse(text)
        for name, key_id, payload in signatures:
            if (name, key_id) == (self.name, self.key_id):
                return checkpoint, self.verify(checkpoint, _signature_line(name, key_id + payload))
        raise NoteError(f"the note has no cosignature by {self.name}")
