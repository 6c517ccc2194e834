"""The insights pages without a browser: the feed and its fragment, the form and its errors, an insight with
hostile Markdown, endorsing through HTMX, replies, reuse, subscriptions and a community's panel."""

import pytest

from aicommons.insights.models import Insight, Reply
from tests.insights.conftest import HOSTILE, count, dangers, insight_form, with_csrf

HTMX = {"HX-Request": "true"}


def test_hostile_markdown_is_shown_as_text_and_runs_nothing(client, commons, browser, post):
    insight = post(title="<script>alert('title')</script> notes", body=HOSTILE)
    client.post(f"/api/v1/insights/{insight['id']}/replies", headers=commons.bob, json={"body": HOSTILE})
    page = browser().get(f"/insights/{insight['id']}").text
    assert dangers(page) == []
    assert "<strong>Bold</strong> survives." in page
    assert "&lt;script&gt;alert(&#39;title&#39;)&lt;/script&gt; notes" in page
    for listing in ("/insights", "/communities/nurses/insights", "/communities/nurses/insights/panel"):
        assert dangers(browser().get(listing).text) == [], listing


def test_the_feed_page_filters_and_answers_htmx_with_the_results_only(browser, post):
    post(title="Sepsis alerts at night")
    post(title="Hand hygiene audit", tags=["hygiene"])
    page = browser()
    full = page.get("/insights", params={"tag": "hygiene"})
    assert full.status_code == 200 and '<header class="site">' in full.text
    assert "Hand hygiene audit" in full.text and "Sepsis alerts" not in full.text
    assert 'href="/insights/feed.atom?tag=hygiene"' in full.text
    fragment = page.get("/insights", params={"q": "hygiene"}, headers=HTMX | {"HX-Target": "results"})
    assert '<header class="site">' not in fragment.text
    assert "1 insight found, best match first" in fragment.text and "Hand hygiene audit" in fragment.text
    assert page.get("/insights", params={"sdg": "99"}).status_code == 422


def test_the_form_needs_a_login_and_offers_only_your_communities(browser, commons):
    assert browser().get("/insights/new").headers["location"] == "/login?next=/insights/new"
    form = browser("carol").get("/insights/new?community=nurses").text
    assert '<option value="nurses" selected>Nurses on AI</option>' in form
    assert "farmers" not in form and "council" not in form
    assert "Join a community first" not in form
    assert "join it first" in browser("dave").get("/insights/new").text


def _form_fields(**changes):
    fields = insight_form() | {"tags": "triage, Night Shift", "evidence": "https://example.org/study"}
    fields = fields | changes
    return {key + ("[]" if isinstance(value, list) else ""): value for key, value in fields.items()}


def test_a_refused_form_comes_back_with_each_message_next_to_its_field(browser, commons, factory):
    page = browser("carol")
    fields = _form_fields(title="ab", evidence="javascript:alert(1)\nhttps://ok.example.org")
    response = page.post("/insights/new", data=with_csrf(page, **fields))
    assert response.status_code == 422
    assert 'id="title-error">Use at least 3 characters.' in response.text
    assert (
        'id="evidence-error">Use at most 10 web addresses starting with http:// or https://' in response.text
    )
    assert "javascript:alert(1)" in response.text  # what was typed comes back, as text
    assert count(factory, Insight) == 0
    elsewhere = page.post("/insights/new", data=with_csrf(page, **_form_fields(community="farmers")))
    assert elsewhere.status_code == 403 and 'id="community-error"' in elsewhere.text


def test_a_good_form_shares_the_insight(browser, commons, factory):
    page = browser("carol")
    response = page.post("/insights/new", data=with_csrf(page, **_form_fields(sectors=["health", "labour"])))
    assert response.status_code == 303
    shown = page.get(response.headers["location"]).text
    assert "Night-shift triage with a sepsis alert" in shown and "#night-shift" in shown
    with factory() as db:
        assert db.query(Insight).one().sectors == ["health", "labour"]


def test_endorsing_through_htmx_swaps_the_button_in_place(browser, post):
    insight = post()
    page = browser("bob")
    path = f"/insights/{insight['id']}/endorsement"
    headers = HTMX | {"HX-Target": "endorsement"}
    swapped = page.post(path, data=with_csrf(page, endorse="yes"), headers=headers)
    assert '<header class="site">' not in swapped.text
    assert 'id="endorsement-count">1<' in swapped.text and "Endorsed — withdraw" in swapped.text
    plain = page.post(path, data=with_csrf(page, endorse="no"))
    assert plain.status_code == 303
    assert 'id="endorsement-count">0<' in page.get(f"/insights/{insight['id']}").text
    own = browser("alice").get(f"/insights/{insight['id']}").text
    assert "endorsement-count" in own and ">Endorse</button>" not in own


def test_replies_and_the_accept_button_of_the_asker(browser, commons, post, factory):
    question = post(kind="question", title="Who audits triage models?")
    bob = browser("bob")
    refused = bob.post(f"/insights/{question['id']}/replies", data=with_csrf(bob, body=""))
    assert refused.status_code == 422 and 'id="body-error"' in refused.text
    sent = bob.post(f"/insights/{question['id']}/replies", data=with_csrf(bob, body="Our *quality* office."))
    assert sent.status_code == 303
    assert "<em>quality</em>" in bob.get(f"/insights/{question['id']}").text
    assert "Accept as answer" not in bob.get(f"/insights/{question['id']}").text
    alice = browser("alice")
    assert "Accept as answer" in alice.get(f"/insights/{question['id']}").text
    with factory() as db:
        reply_id = db.query(Reply).one().id
    alice.post(f"/insights/{question['id']}/replies/{reply_id}/accept", data=with_csrf(alice))
    assert "Accepted answer" in alice.get(f"/insights/{question['id']}").text


def test_recording_reuse_from_the_page(browser, post):
    insight = post()
    assert "Record reuse by" not in browser("carol").get(f"/insights/{insight['id']}").text
    bob = browser("bob")
    shown = bob.get(f"/insights/{insight['id']}").text
    assert '<option value="farmers">Farmers ML</option>' in shown
    note = {"community": "farmers", "note": "Used for crop alerts"}
    assert bob.post(f"/insights/{insight['id']}/reuses", data=with_csrf(bob, **note)).status_code == 303
    page = bob.get(f"/insights/{insight['id']}").text
    assert "Reused by 1 community" in page and "Used for crop alerts" in page
    assert "Record reuse by" not in page  # farmers recorded it; bob leads no other community
    panel = bob.get("/communities/nurses/insights/panel").text
    assert 'id="reused-by">1<' in panel and 'id="reused-sectors">1<' in panel and "agriculture" in panel
    taken = bob.get("/communities/farmers/insights").text
    assert 'id="reused-from-others">1<' in taken and "Night-shift triage with a sepsis alert" in taken


def test_subscriptions_page_follows_shows_feeds_and_unsubscribes(browser, commons):
    page = browser("dave")
    assert (
        page.post("/insights/subscriptions", data=with_csrf(page, facet="sector", sector="water")).status_code
        == 303
    )
    bad = page.post("/insights/subscriptions", data=with_csrf(page, facet="tag", tag="no good!"))
    assert bad.status_code == 422 and 'id="tag-error"' in bad.text
    shown = page.get("/insights/subscriptions").text
    assert 'href="/insights/feed.atom?sector=water"' in shown and "You follow 1" in shown
    page.post("/insights/subscriptions/1/delete", data=with_csrf(page))
    assert "You follow 0" in page.get("/insights/subscriptions").text


@pytest.mark.parametrize(
    "path", ["/insights/{id}", "/communities/council/insights", "/communities/council/insights/panel"]
)
def test_private_pages_are_404_for_outsiders(browser, post, path):
    private = post(community="council", title="Council priorities")
    assert browser("dave").get(path.format(id=private["id"])).status_code == 404
    assert browser("alice").get(path.format(id=private["id"])).status_code == 200
