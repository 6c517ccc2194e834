"""Sending tokens from the wallet and finding and checking the transfer on the log, in a real browser."""

import base64
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from aicommons.core.db import make_engine, make_session_factory, unit_of_work
from aicommons.ledger import merkle, tokens
from aicommons.ledger.note import Checkpoint, Verifier
from aicommons.members import service as members
from tests.e2e.people import sign_up

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}
FITS = "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
TRANSFER = "ledger:transfer:create"
SIGNUP = "members:member:signup"


def mint(tmp_path: Path, handle: str, amount: int) -> int:
    """Give a member tokens in the live server's database, as a reward would; returns the member's id."""
    engine = make_engine(f"sqlite:///{tmp_path / 'commons.db'}")
    try:
        with unit_of_work(make_session_factory(engine)) as session:
            member = members.get(session=session, handle=handle)
            owner = tokens.member_account(member.id)
            tokens.mint(session, key=f"welcome/{handle}", target=owner, amount=amount, reason="welcome")
            return member.id
    finally:
        engine.dispose()


def entry_rows(page: Any) -> Any:
    return page.locator("#entries tbody tr")


def reload_until(page: Any, path: str, rows: int) -> None:
    """The sequencer places entries every half second: reload until `rows` entries are listed."""
    page.goto(path)
    for _ in range(40):
        if entry_rows(page).count() >= rows:
            return
        page.wait_for_timeout(250)
        page.reload()
    raise AssertionError(f"{path} never listed {rows} entries")


def read_receipt(text: str) -> tuple[bytes, int, list[bytes], str]:
    """A C2SP tlog-proof: the entry bytes, its index, the proof hashes, and the signed checkpoint."""
    head, note = text.split("\n\n", 1)
    header, extra, index, *proof = head.splitlines()
    assert header == "c2sp.org/tlog-proof@v1"
    body = base64.b64decode(extra.removeprefix("extra "))
    return body, int(index.removeprefix("index ")), [base64.b64decode(line) for line in proof], note


def test_tokens_sent_from_the_wallet_reach_the_recipient_and_the_log(new_page, server, tmp_path, shots):
    alice, bob = new_page(), new_page()
    sign_up(alice, "alice")
    sign_up(bob, "bob")
    alice_id = mint(tmp_path, "alice", 100)

    alice.get_by_role("link", name="Wallet").click()
    expect(alice.locator("#balance")).to_have_text("100")
    alice.get_by_label("To (handle)").fill("bob")
    alice.get_by_label("Amount").fill("30")
    alice.get_by_label("Note (optional)").fill("For the water sensors")
    alice.get_by_role("button", name="Send tokens").click()
    expect(alice.get_by_role("status")).to_contain_text("You sent 30 tokens to @bob")
    expect(alice.locator("#balance")).to_have_text("70")
    sent = alice.locator("#history tbody tr").first
    for text in ("Sent", "@bob", "\N{MINUS SIGN}30", "Transfer", "For the water sensors"):
        expect(sent).to_contain_text(text)
    alice.screenshot(path=shots / "ledger-wallet.png", full_page=True)

    bob.goto("/profile")
    expect(bob.locator("#balance")).to_have_text("30")
    bob.get_by_role("link", name=re.compile("Send tokens and see all 1 transfer")).click()
    received = bob.locator("#history tbody tr").first
    for text in ("Received", "@alice", "+30", "For the water sensors"):
        expect(received).to_contain_text(text)

    reload_until(alice, f"/ledger/explore?event={TRANSFER}", rows=2)
    first = entry_rows(alice).first
    expect(first).to_contain_text(TRANSFER)
    expect(first).to_contain_text(f"member:{alice_id}")
    alice.goto("/ledger/explore")
    alice.screenshot(path=shots / "ledger-explorer.png", full_page=True)
    entry_link = entry_rows(alice).first.get_by_role("link", name=re.compile(r"^Entry \d+$"))
    index = int(entry_link.get_attribute("href").rsplit("/", 1)[1])
    entry_link.click()

    expect(alice.get_by_role("heading", level=1)).to_have_text(f"Log entry {index}")
    document = alice.get_by_role("figure", name=re.compile("canonical JSON")).locator("pre")
    for text in (f'"from": "member:{alice_id}"', '"amount": 30', f'"event": "{TRANSFER}"'):
        expect(document).to_contain_text(text)
    expect(document).not_to_contain_text("water sensors")  # the log holds the note only as a hash
    proof = [item.inner_text() for item in alice.locator("ol.proof code").all()]
    assert proof, "the log holds several entries, so the proof has hashes"
    alice.screenshot(path=shots / "ledger-entry.png", full_page=True)

    receipt = alice.request.get(alice.get_by_role("link", name="Download the receipt").get_attribute("href"))
    body, receipt_index, hashes, note = read_receipt(receipt.text())
    key = alice.get_by_role("figure", name=re.compile("verifier key")).locator("pre").inner_text().strip()
    assert key == httpx.get(f"{server}/ledger/key").text.strip()
    checkpoint = Checkpoint.parse(Verifier.from_key(key).verify(note))
    leaf = merkle.leaf_hash(body)
    merkle.verify_inclusion(receipt_index, checkpoint.size, leaf, hashes, checkpoint.root)
    assert receipt_index == index
    expect(alice.locator("#leaf-hash")).to_have_text(base64.b64encode(leaf).decode())
    assert proof == [base64.b64encode(digest).decode() for digest in hashes]


def test_the_explorer_filters_live_and_pages(new_page, server, tmp_path):
    page = new_page()
    for handle in ("amina", "bruno", "chen"):
        sign_up(page, handle)
        page.get_by_role("button", name="Log out").click()
    bruno = mint(tmp_path, "bruno", 5)
    reload_until(page, "/ledger/explore", rows=4)

    page.get_by_label("Event").select_option(SIGNUP)
    expect(entry_rows(page)).to_have_count(3)
    expect(page).to_have_url(re.compile(r"event=members%3Amember%3Asignup"))
    page.get_by_label("Actor (member id)").fill(str(bruno))
    expect(entry_rows(page)).to_have_count(1)
    expect(page.locator("#entries .count")).to_have_text("1 entry matches the filters")

    page.goto("/ledger/explore?size=2")
    expect(entry_rows(page)).to_have_count(2)
    page.get_by_role("link", name="Next →").click()
    expect(page.get_by_text("Page 2 of 2")).to_be_visible()
    expect(page).to_have_url(re.compile(r"page=2"))
    expect(page.get_by_label("Event")).to_have_value("")

    page.goto("/ledger/explore?event=ledger:")
    expect(page.get_by_label("Event")).to_have_value("ledger:")
    expect(entry_rows(page)).to_have_count(1)


def test_an_entry_the_log_does_not_hold_is_a_404_page_and_bad_filters_a_422(server):
    html = {"accept": "text/html"}
    missing = httpx.get(f"{server}/ledger/explore/entries/100000", headers=html)
    assert missing.status_code == 404
    assert "No such log entry" in missing.text
    assert httpx.get(f"{server}/ledger/explore/entries/{2**64}", headers=html).status_code == 422
    for query in ("actor=abc", f"actor={2**40}", f"community={2**64}", "size=1000"):
        assert httpx.get(f"{server}/ledger/explore?{query}", headers=html).status_code == 422, query
    assert httpx.get(f"{server}/ledger/explore?event=DROP%20TABLE", headers=html).status_code == 422


def test_the_log_pages_and_the_wallet_fit_a_phone(new_page, server, tmp_path, shots):
    page = new_page(viewport=PHONE, is_mobile=True, has_touch=True)
    sign_up(page, "a-member-with-a-very-long-handle")
    sign_up(new_page(), "recipient")
    mint(tmp_path, "a-member-with-a-very-long-handle", 10)
    page.goto("/wallet")
    page.get_by_label("To (handle)").fill("recipient")
    page.get_by_label("Amount").fill("3")
    page.get_by_label("Note (optional)").fill("A-note-without-any-spaces-" * 6)
    page.get_by_role("button", name="Send tokens").click()
    expect(page.locator("#balance")).to_have_text("7")
    assert page.evaluate(FITS), "the wallet scrolls sideways on a 390px wide screen"
    page.screenshot(path=shots / "ledger-wallet-phone.png", full_page=True)

    reload_until(page, "/ledger/explore", rows=4)
    assert page.evaluate(FITS), "the explorer scrolls sideways on a 390px wide screen"
    page.screenshot(path=shots / "ledger-explorer-phone.png", full_page=True)
    entry_rows(page).first.get_by_role("link", name=re.compile(r"^Entry \d+$")).click()
    expect(page.get_by_role("heading", name=re.compile("Log entry"))).to_be_visible()
    page.get_by_text("The exact bytes").click()
    assert page.evaluate(FITS), "an entry page scrolls sideways on a 390px wide screen"
    page.screenshot(path=shots / "ledger-entry-phone.png", full_page=True)
    page.goto("/profile")
    assert page.evaluate(FITS), "the profile scrolls sideways on a 390px wide screen"


def test_tokens_can_be_sent_from_the_keyboard_alone(new_page, tmp_path):
    page = new_page()
    sign_up(new_page(), "bob")
    sign_up(page, "keyla")
    mint(tmp_path, "keyla", 10)
    page.goto("/wallet")
    for _ in range(20):
        if page.evaluate("document.activeElement.id") == "f-to":
            break
        page.keyboard.press("Tab")
    expect(page.get_by_label("To (handle)")).to_be_focused()
    for text in ("bob", "4", "Thank you"):
        page.keyboard.type(text)
        page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Send tokens")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("You sent 4 tokens to @bob")
    expect(page.locator("#balance")).to_have_text("6")
