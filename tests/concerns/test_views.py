"""The concerns' pages without a browser: the short form for anyone, CSRF, errors next to fields, the private
tracking page, hostile Markdown, the HTMX list, the moderators' forms and the moderation queue."""

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from aicommons.concerns.models import Concern, Status
from aicommons.core.web import CSRF_COOKIE
from aicommons.members.models import Member
from tests.concerns.conftest import concern_form, concern_row
from tests.conftest import PASSWORD

Browser = Callable[..., TestClient]
HOSTILE = (
    "<script>window.pwned = 1</script> **Bold** text.\n\n"
    '<img src=x onerror="window.pwned = 2"> [click me](javascript:window.pwned=3) '
    "[ok](https://example.org)"
)


@pytest.fixture
def browser(app: FastAPI) -> Iterator[Browser]:
    """A browser of its own (cookies, CSRF token) for each person; logged in as `member` when given."""
    opened: list[TestClient] = []

    def open_as(member: Member | None = None) -> TestClient:
        page = TestClient(app, headers={"accept": "text/html"})
        opened.append(page)
        page.get("/concerns/new")
        if member is not None:
            login = page.post("/login", data=with_csrf(page, handle=member.handle, password=PASSWORD))
            assert login.status_code == 200, login.text
        return page

    yield open_as
    for page in opened:
        page.close()


def with_csrf(page: TestClient, **fields: Any) -> dict[str, Any]:
    return {"csrf_token": page.cookies[CSRF_COOKIE], **fields}


def post(page: TestClient, path: str, **fields: Any) -> Any:
    return page.post(path, data=with_csrf(page, **fields), follow_redirects=False)


def concerns(factory) -> int:
    with factory() as db:
        return db.scalar(select(func.count()).select_from(Concern)) or 0


def test_the_form_asks_six_questions_each_with_a_label(browser):
    page = browser().get("/concerns/new").text
    for field in ("ai_tool", "where_seen", "what_happened", "who_affected", "reporter_role", "contact"):
        assert re.search(rf'<label for="concern-{field}">', page), field
    assert page.count(" required") == 4  # and two radio groups: harm and worry
    assert (
        "<legend>Has anyone been harmed?</legend>" in page and "<legend>How worried are you?</legend>" in page
    )


def test_anyone_sends_the_form_and_lands_on_a_private_tracking_page(browser, factory):
    page = browser()
    sent = post(page, "/concerns/new", **concern_form(contact="jane@example.org"))
    assert sent.status_code == 303 and sent.headers["location"].startswith("/concerns/track/aict_")
    tracked = page.get(sent.headers["location"])
    assert "Thank you: your concern is #1." in tracked.text and 'id="tracking-link"' in tracked.text
    assert (
        tracked.headers["referrer-policy"] == "no-referrer" and tracked.headers["cache-control"] == "no-store"
    )
    assert "jane@example.org" not in tracked.text and "jane@example.org" not in page.get("/concerns/1").text
    assert concerns(factory) == 1


def test_a_form_without_its_csrf_token_is_refused_and_nothing_is_written(browser, factory):
    refused = browser().post("/concerns/new", data=concern_form(), follow_redirects=False)
    assert refused.status_code == 403 and concerns(factory) == 0


def test_a_bad_form_comes_back_with_each_message_next_to_its_field_and_what_was_typed(browser, factory):
    answer = post(browser(), "/concerns/new", **concern_form(what_happened="short", harm="", worry="panic"))
    assert answer.status_code == 422
    assert re.search(r'id="concern-what_happened-error">[^<]*at least 10 characters', answer.text)
    assert 'id="concern-harm-error">Please fill this in.' in answer.text
    assert 'id="concern-worry-error"' in answer.text
    assert 'value="TriageBot"' in answer.text and concerns(factory) == 0


def test_hostile_markdown_is_shown_as_text_and_never_runs(browser, raised):
    concern_id = raised(what_happened=HOSTILE)["concern"]["id"]
    for path in (f"/concerns/{concern_id}", "/concerns"):
        html = browser().get(path).text
        assert "<script>window" not in html and "<img" not in html and 'href="javascript' not in html
    shown = browser().get(f"/concerns/{concern_id}").text
    assert "&lt;script&gt;window.pwned = 1&lt;/script&gt;" in shown and "<strong>Bold</strong>" in shown
    assert '<a href="https://example.org" rel="nofollow noopener noreferrer">ok</a>' in shown


def test_the_status_filter_swaps_only_the_results_for_htmx(browser, scene):
    headers = {"HX-Request": "true", "HX-Target": "results"}
    fragment = browser().get("/concerns?status=triaged", headers=headers).text
    assert "header" not in fragment and "GradeBot" in fragment and "TriageBot" not in fragment
    full = browser().get("/concerns?status=escalated").text
    assert "<header" in full and "TriageBot" in full and "GradeBot" not in full
    assert browser().get("/concerns?status=lost").status_code == 422


def test_corroborating_and_flagging_from_the_page(browser, scene):
    page = browser()
    seen = post(page, f"/concerns/{scene.concern_id}/corroborate", sector="health")
    assert seen.headers["location"] == f"/concerns/{scene.concern_id}#corroborations"
    assert "1 person has seen this too." in page.get(f"/concerns/{scene.concern_id}").text
    again = post(page, f"/concerns/{scene.concern_id}/corroborate", sector="health")
    assert again.status_code == 409 and "You already said you have seen this too" in again.text
    blank = post(page, f"/concerns/{scene.concern_id}/corroborate", sector="")
    assert blank.status_code == 422 and 'id="corroborate-sector-error"' in blank.text
    flagged = post(page, f"/concerns/{scene.concern_id}/flag", reason="off-topic")
    assert flagged.headers["location"] == f"/concerns/{scene.concern_id}?flagged=true#flag"
    assert "Moderators will look at your flag" in page.get(flagged.headers["location"]).text


def test_the_moderators_tools_show_only_to_moderators(browser, scene):
    path = f"/concerns/{scene.concern_id}"
    assert "Moderation" not in browser().get(path).text
    assert "Moderation" not in browser(scene.people["mel"]).get(path).text
    steward = browser(scene.people["stella"]).get(path).text
    assert "Change status" in steward and "Save tags" not in steward
    moderator = browser(scene.people["mona"]).get(path).text
    assert all(
        tool in moderator for tool in ("Change status", "Save tags", "Merge", "Hide", "Name responder")
    )
    assert "/escalate" not in moderator  # an escalated concern goes on, not up again
    triaged = browser(scene.people["mona"]).get(f"/concerns/{scene.other_id}").text
    assert '<option value="policy-forum">' in triaged and '<option value="other-forum">' in triaged


def test_closing_without_a_reason_shows_the_message_and_changes_nothing(browser, scene, factory):
    before = concern_row(factory, scene.concern_id)
    answer = post(browser(scene.people["mona"]), f"/concerns/{scene.concern_id}/status", status="closed")
    assert answer.status_code == 422
    assert 'role="alert">say why the concern is closed: the reporter reads it' in answer.text
    assert concern_row(factory, scene.concern_id) == before


def test_a_moderator_triages_merges_and_names_a_responder_through_the_forms(browser, scene, factory):
    mona = browser(scene.people["mona"])
    tags = {
        "risk_entity": "ai",
        "risk_timing": "post-deployment",
        "harm_types[]": ["physical", "psychological"],
    }
    assert post(mona, f"/concerns/{scene.other_id}/tags", **tags).status_code == 303
    assert "Timing: post deployment" in mona.get(f"/concerns/{scene.other_id}").text
    named = post(
        mona, f"/concerns/{scene.other_id}/responders", handle="mel", organisation="Grades Inc", scope="tool"
    )
    assert named.status_code == 303
    merged = post(mona, f"/concerns/{scene.other_id}/merge", into=str(scene.concern_id))
    assert merged.headers["location"] == f"/concerns/{scene.concern_id}"
    duplicate = mona.get(f"/concerns/{scene.other_id}").text
    assert f'duplicate of <a href="/concerns/{scene.concern_id}">' in duplicate
    wrong = post(mona, f"/concerns/{scene.concern_id}/merge", into="999")
    assert wrong.status_code == 404 and "no concern #999" in wrong.text
    assert concern_row(factory, scene.other_id)["status"] == Status.CLOSED


def test_the_organisation_responds_from_the_page(browser, scene):
    rory = browser(scene.people["rory"])
    assert "Post response" in rory.get(f"/concerns/{scene.concern_id}").text
    posted = post(rory, f"/concerns/{scene.concern_id}/responses", body="We *paused* it at night.")
    assert posted.status_code == 303
    assert "<em>paused</em>" in browser().get(f"/concerns/{scene.concern_id}").text


def test_the_moderation_queue_is_for_moderators_with_the_flags_and_the_triage_queue(
    browser, scene, app, token_for
):
    for handle in ("mel", "oscar", "stella"):
        TestClient(app).post(
            f"/api/v1/concerns/{scene.other_id}/flags",
            json={"reason": "spam"},
            headers=token_for(scene.people[handle]),
        )
    assert (
        browser().get("/concerns/moderation", follow_redirects=False).headers["location"].startswith("/login")
    )
    assert browser(scene.people["mel"]).get("/concerns/moderation").status_code == 403
    queue = browser(scene.people["mona"]).get("/concerns/moderation").text
    assert "Flagged and hidden (1)" in queue and "spam: 3" in queue and f"Restore #{scene.other_id}" in queue
    restored = post(browser(scene.people["mona"]), f"/concerns/{scene.other_id}/restore")
    assert restored.headers["location"] == f"/concerns/{scene.other_id}"
    assert "Nothing is flagged." in browser(scene.people["mona"]).get("/concerns/moderation").text


def test_my_concerns_need_a_login_and_show_only_mine(browser, scene):
    assert browser().get("/concerns/mine", follow_redirects=False).headers["location"].startswith("/login")
    mine = browser(scene.people["rita"]).get("/concerns/mine").text
    assert "TriageBot" in mine and "GradeBot" not in mine


def test_the_concern_page_names_a_private_community_to_nobody_outside_it(browser, scene, client, token_for):
    steward = token_for(scene.people["stella"])
    form = {"name": "Quiet Council", "slug": "quiet-council", "format": "policy", "sectors": ["health"]}
    form |= {"sdgs": [3], "region": "europe", "visibility": "private"}
    client.post("/api/v1/communities", json=form, headers=steward)
    mona = token_for(scene.people["ada"])
    client.post(
        f"/api/v1/concerns/{scene.other_id}/escalate", json={"community": "quiet-council"}, headers=mona
    )
    for viewer in (None, scene.people["mel"]):
        page = browser(viewer).get(f"/concerns/{scene.other_id}").text
        assert (
            "To a policy community." in page and "Quiet Council" not in page and "quiet-council" not in page
        )
    assert "Quiet Council" in browser(scene.people["stella"]).get(f"/concerns/{scene.other_id}").text
