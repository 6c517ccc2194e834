"""The auditor: a mirror and a commons verify, and every kind of tampering is caught by name."""

import base64
import functools
import json
import re
import shutil
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import update

from aicommons.app import create_app, log_identity
from aicommons.core.config import Settings
from aicommons.core.db import Base, make_engine, make_session_factory, unit_of_work
from aicommons.ledger import audit, merkle, note, tiles, tokens
from aicommons.ledger import service as ledger
from aicommons.ledger.models import Account
from tests.conftest import LiveServer

ENTRIES = 280  # a full bundle and a partial one, and a level-1 tile
SIZE = ENTRIES + 3  # and three transfers


def record(factory, count: int, event: str = "tests:thing:happen") -> None:
    with unit_of_work(factory) as session:
        for n in range(count):
            ledger.record(session, event, actor_id=None, data={"n": n})


def move_tokens(factory) -> None:
    with unit_of_work(factory) as session:
        tokens.mint(session, key="m1", target="member:1", amount=100, reason="tests")
        tokens.mint(session, key="m2", target="member:2", amount=50, reason="tests")
        tokens.transfer(
            session,
            initiator="member:1",
            key="t1",
            source="member:1",
            target="member:2",
            amount=30,
            reason="tests",
        )


def wait_for_size(url: str, size: int) -> None:
    """Wait until the commons' worker has sequenced and signed `size` entries."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        response = httpx.get(f"{url}/ledger/checkpoint")
        if response.status_code == 200 and int(response.text.split("\n")[1]) >= size:
            return
        time.sleep(0.05)
    raise AssertionError(f"the log did not reach size {size}")


@pytest.fixture
def commons(factory, live_server) -> str:
    """A running commons whose log holds entries and token transfers."""
    record(factory, ENTRIES)
    move_tokens(factory)
    wait_for_size(live_server, SIZE)
    return live_server


def forked_commons(tmp_path: Path, signing_key: Path | None, count: int) -> LiveServer:
    """Another commons with the same origin (and, given `signing_key`, the same key) but other entries."""
    data = tmp_path / "fork"
    data.mkdir()
    if signing_key is not None:
        shutil.copy(signing_key, data / "signing.key")
    fork = Settings(data_dir=data, database_url=f"sqlite:///{data / 'fork.db'}", run_worker=False)
    engine = make_engine(fork.resolved_database_url)
    Base.metadata.create_all(engine)
    factory = make_session_factory(engine)
    record(factory, count, event="tests:history:rewrite")
    with unit_of_work(factory) as session:
        ledger.integrate(session, log_identity(fork))
    engine.dispose()
    return LiveServer(create_app(fork))


def flip(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


def test_a_commons_and_its_mirror_verify_and_the_mirror_fetches_only_what_is_new(commons, factory, tmp_path):
    mirror = tmp_path / "mirror"
    assert audit.sync(commons, mirror) == 2 + 2 + 1  # two bundles, two level-0 tiles, one level-1 tile
    report = audit.verify(commons, state_dir=tmp_path / "state")
    assert (report.size, report.previous_size, report.accounts) == (SIZE, None, 3)
    again = audit.verify(str(mirror), state_dir=mirror)
    assert (again.root, again.accounts) == (report.root, 3)
    assert (mirror / audit.PINNED_KEY).read_text().strip() == (mirror / audit.KEY).read_text().strip()

    record(factory, 300)
    wait_for_size(commons, SIZE + 300)
    assert audit.sync(commons, mirror) == 2 + 2 + 1  # bundle and tile 1 now full, new edges of each level
    assert not (mirror / tiles.entries_path(1, SIZE - 256)).exists()  # the old edge is pruned
    grown = audit.verify(str(mirror), state_dir=mirror)
    assert (grown.size, grown.previous_size) == (SIZE + 300, SIZE)


def test_an_entry_changed_in_a_mirror_no_longer_hashes_to_the_signed_root(commons, tmp_path):
    audit.sync(commons, tmp_path / "mirror")
    flip(tmp_path / "mirror" / tiles.entries_path(0), 20)  # inside the first entry's JSON
    with pytest.raises(audit.AuditError) as caught:
        audit.verify(str(tmp_path / "mirror"), state_dir=tmp_path / "state")
    assert caught.value.what == "root"
    assert f"the {SIZE} entries hash to a root the checkpoint does not sign" in str(caught.value)


def test_a_truncated_bundle_is_named(commons, tmp_path):
    audit.sync(commons, tmp_path / "mirror")
    bundle = tmp_path / "mirror" / tiles.entries_path(1, SIZE - 256)
    bundle.write_bytes(bundle.read_bytes()[:-5])
    with pytest.raises(audit.AuditError) as caught:
        audit.verify(str(tmp_path / "mirror"), state_dir=tmp_path / "state")
    assert caught.value.what == "entries"
    assert tiles.entries_path(1, SIZE - 256) in str(caught.value)


@pytest.mark.parametrize("tile", [tiles.tile_path(0, 0), tiles.tile_path(1, 0, 1)])
def test_a_changed_tile_is_named(commons, tmp_path, tile):
    audit.sync(commons, tmp_path / "mirror")
    flip(tmp_path / "mirror" / tile, 5)
    with pytest.raises(audit.AuditError) as caught:
        audit.verify(str(tmp_path / "mirror"), state_dir=tmp_path / "state")
    assert caught.value.what == "tile"
    assert tile in str(caught.value)


def test_a_forged_checkpoint_signature_is_refused(commons, tmp_path):
    audit.sync(commons, tmp_path / "mirror")
    checkpoint = tmp_path / "mirror" / audit.CHECKPOINT
    text, signature = checkpoint.read_text().rsplit(" ", 1)
    forged = bytearray(base64.b64decode(signature))
    forged[-1] ^= 0x01
    checkpoint.write_text(f"{text} {base64.b64encode(bytes(forged)).decode()}\n")
    with pytest.raises(audit.AuditError) as caught:
        audit.verify(str(tmp_path / "mirror"), state_dir=tmp_path / "state")
    assert caught.value.what == "signature"


def test_a_checkpoint_is_checked_against_the_pinned_key_not_the_served_one(commons, tmp_path, settings):
    state = tmp_path / "state"
    state.mkdir()
    impostor = note.Signer(settings.log_origin, Ed25519PrivateKey.generate()).verifier_key()
    (state / audit.PINNED_KEY).write_text(impostor + "\n")
    with pytest.raises(audit.AuditError) as caught:
        audit.verify(commons, state_dir=state)
    assert caught.value.what == "signature"
    assert impostor in str(caught.value)
    assert not (state / audit.STATE).exists()  # nothing is remembered from a failed verification


def test_a_commons_with_another_key_for_the_same_origin_is_refused(commons, tmp_path):
    audit.verify(commons, state_dir=tmp_path / "state")
    with forked_commons(tmp_path, None, SIZE) as impostor, pytest.raises(audit.AuditError) as caught:
        audit.verify(impostor, state_dir=tmp_path / "state")
    assert caught.value.what == "signature"


def test_a_rewritten_history_signed_with_the_same_key_is_a_fork(commons, settings, tmp_path):
    audit.verify(commons, state_dir=tmp_path / "state")
    rewritten = forked_commons(tmp_path, settings.signing_key_path, SIZE + 10)
    with rewritten as url, pytest.raises(audit.AuditError) as caught:
        audit.verify(url, state_dir=tmp_path / "state")
    assert caught.value.what == "fork"
    assert f"the first {SIZE} entries no longer hash" in str(caught.value)


def test_a_smaller_checkpoint_after_a_bigger_one_is_a_rollback(commons, factory, tmp_path):
    audit.sync(commons, tmp_path / "old")
    record(factory, 20)
    wait_for_size(commons, SIZE + 20)
    audit.verify(commons, state_dir=tmp_path / "state")
    with pytest.raises(audit.AuditError) as caught:
        audit.verify(str(tmp_path / "old"), state_dir=tmp_path / "state")
    assert caught.value.what == "rollback"
    assert f"size {SIZE + 20} when last verified and now claims size {SIZE}" in str(caught.value)
    audit.sync(commons, tmp_path / "new")
    with pytest.raises(audit.AuditError) as kept:
        audit.sync(str(tmp_path / "old"), tmp_path / "new")  # a mirror of the stale copy
    assert kept.value.what == "rollback"
    assert audit.read_checkpoint(audit.Mirror(tmp_path / "new"))[1].size == SIZE + 20


def test_an_unreadable_state_file_is_named(commons, tmp_path):
    (tmp_path / "state").mkdir()
    (tmp_path / "state" / audit.STATE).write_text("not a note")
    with pytest.raises(audit.AuditError) as caught:
        audit.verify(commons, state_dir=tmp_path / "state")
    assert caught.value.what == "state"


def test_balances_the_commons_reports_must_be_those_the_log_replays_to(commons, factory, tmp_path):
    with unit_of_work(factory) as session:
        session.execute(
            update(Account).where(Account.owner == "member:2").values(balance=Account.balance + 5)
        )
    with pytest.raises(audit.AuditError) as caught:
        audit.verify(commons, state_dir=tmp_path / "state")
    assert caught.value.what == "balances"
    assert "member:2: the log gives 80, the commons reports 85" in str(caught.value)


def test_a_mirror_checks_the_balances_saved_with_it(commons, tmp_path):
    mirror = tmp_path / "mirror"
    audit.sync(commons, mirror)
    saved = json.loads((mirror / audit.BALANCES).read_text())
    assert saved == {"size": SIZE, "balances": {"issuance": -150, "member:1": 70, "member:2": 80}}
    saved["balances"]["member:9"] = 1
    (mirror / audit.BALANCES).write_text(json.dumps(saved))
    with pytest.raises(audit.AuditError) as caught:
        audit.verify(str(mirror), state_dir=mirror)
    assert "member:9: the log gives 0, the commons reports 1" in str(caught.value)


def test_a_mirror_served_by_a_plain_web_server_verifies_without_balances(commons, tmp_path):
    audit.sync(commons, tmp_path / "site" / "ledger")
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(tmp_path / "site"))
    with ThreadingHTTPServer(("127.0.0.1", 0), handler) as static:
        threading.Thread(target=static.serve_forever, daemon=True).start()
        try:
            report = audit.verify(f"http://127.0.0.1:{static.server_port}", state_dir=tmp_path / "state")
        finally:
            static.shutdown()
    assert (report.size, report.accounts) == (SIZE, None)


def test_a_source_that_is_neither_url_nor_directory_is_named(tmp_path):
    with pytest.raises(audit.AuditError) as caught:
        audit.verify(str(tmp_path / "nowhere"), state_dir=tmp_path / "state")
    assert caught.value.what == "source"


def test_the_documented_python_example_runs(commons, tmp_path, monkeypatch, capsys):
    text = (Path(__file__).parents[2] / "docs" / "ledger-audit.md").read_text()
    example = re.search(r"```python\n(.*?)```", text, re.DOTALL).group(1)
    monkeypatch.chdir(tmp_path)
    exec(compile(example.replace("https://commons.example.org", commons), "docs/ledger-audit.md", "exec"), {})
    assert capsys.readouterr().out.split() == [str(SIZE), "3"]


def test_an_empty_log_verifies(live_server, tmp_path):
    wait_for_size(live_server, 0)  # the sequencer signs the empty tree first
    report = audit.verify(live_server, state_dir=tmp_path / "state")
    assert (report.size, report.root, report.accounts) == (0, merkle.EMPTY_ROOT, 0)
