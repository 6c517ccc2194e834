"""The governance pages without a browser: lists and their fragments, the form by kind with its errors next
to the fields, the proposal page with its tally, ballot, votes and timeline, and the parameters."""

import re

from aicommons.governance.jobs import move_due
from aicommons.governance.models import Proposal
from aicommons.governance.views import choice_of, tally_chart
from tests.datasets.test_views import Browser, with_csrf

HX = {"HX-Request": "true"}


def new_proposal(page, **fields) -> str:
    """Fill the form of a kind and save the draft; returns the proposal's page address."""
    saved = page.post("/governance/new", data=with_csrf(page, **fields), follow_redirects=False)
    assert saved.status_code == 303, saved.text
    return str(saved.headers["location"])


def open_vote(page, factory, **fields) -> str:
    address = new_proposal(page, **fields)
    submitted = page.post(f"{address}/submit", data=with_csrf(page), follow_redirects=False)
    assert submitted.status_code == 303
    with factory() as session:
        starts = session.get(Proposal, int(address.rsplit("/", 1)[1])).voting_starts_at
    move_due(factory, starts)
    return address


def test_the_commons_list_and_its_fragment(browser: Browser, commons):
    page = browser(commons["alice"])
    new_proposal(page, kind="signal", title="Open our meetings to the public", method="one_member")
    shown = page.get("/governance")
    assert shown.status_code == 200
    assert "Open our meetings to the public" in shown.text and "New proposal" in shown.text
    fragment = page.get("/governance?state=draft", headers=HX | {"HX-Target": "results"})
    assert "<header" not in fragment.text and "1 proposal" in fragment.text
    assert "0 proposals" in page.get("/governance?state=executed").text
    assert page.get("/governance?state=bogus").status_code == 422


def test_a_communitys_proposals_page(browser: Browser, commons):
    page = browser(commons["bob"])
    new_proposal(page, kind="membership", community="water-watch", title="Bob as a steward", handle="bob")
    shown = page.get("/communities/water-watch/governance")
    assert "Proposals of Water Watch" in shown.text and "Bob as a steward" in shown.text
    assert "New proposal" not in browser(commons["erin"]).get("/communities/water-watch/governance").text
    assert page.get("/communities/nowhere/governance").status_code == 404


def test_the_form_first_asks_for_a_kind_fitting_the_place(browser: Browser, commons):
    page = browser(commons["alice"])
    commons_kinds = page.get("/governance/new").text
    assert "Parameter change" in commons_kinds and "Membership decision" not in commons_kinds
    community_kinds = page.get("/governance/new?community=water-watch").text
    assert "Membership decision" in community_kinds and "Dataset admission" not in community_kinds
    form = page.get("/governance/new?kind=parameter_change&name=governance:quorum-percent").text
    assert re.search(r'<option value="governance:quorum-percent" selected>Quorum — now 50 percent', form)
    assert page.get("/governance/new", follow_redirects=False).status_code == 200
    anonymous = browser().get("/governance/new", follow_redirects=False)
    assert anonymous.status_code == 303 and "/login" in anonymous.headers["location"]


def test_a_form_sent_back_shows_each_error_next_to_its_field(browser: Browser, commons, factory):
    page = browser(commons["alice"])
    fields = {"kind": "treasury_transfer", "title": "Hi", "recipient": "member", "to": "", "amount": "0"}
    refused = page.post("/governance/new", data=with_csrf(page, **fields))
    assert refused.status_code == 422
    assert 'id="title-error"' in refused.text and "Use at least 5 characters." in refused.text
    assert 'id="to-error"' in refused.text and 'id="amount-error"' in refused.text
    unknown = page.post(
        "/governance/new",
        data=with_csrf(page, **fields | {"title": "Pay nobody", "to": "nobody", "amount": "5"}),
    )
    assert unknown.status_code == 404
    assert re.search(r'id="to-error">no member has the handle', unknown.text)
    assert 'value="Pay nobody"' in unknown.text
    options = page.post(
        "/governance/new",
        data=with_csrf(page, kind="signal", title="Pick one", method="ranked", options="Only one"),
    )
    assert options.status_code == 422 and "give 2 to 10 different options" in options.text
    with factory() as session:
        assert session.query(Proposal).count() == 0


def test_the_proposal_page_from_draft_to_a_vote(browser: Browser, commons, factory):
    alice = browser(commons["alice"])
    address = new_proposal(
        alice, kind="signal", title="Publish the sensor data", method="token", body="Yes, **all** of it."
    )
    draft = alice.get(address).text
    assert "Submit for vote" in draft and "<strong>all</strong>" in draft and "Voting has not opened" in draft
    assert "Submit for vote" not in browser(commons["bob"]).get(address).text
    open_vote(alice, factory, kind="signal", title="Second one", method="one_member")
    alice.post(f"{address}/submit", data=with_csrf(alice))
    with factory() as session:
        starts = session.get(Proposal, int(address.rsplit("/", 1)[1])).voting_starts_at
    move_due(factory, starts)
    shown = alice.get(address).text
    assert 'id="my-power">100<' in shown and "at log size" in shown
    assert 'hx-trigger="every 5s, vote-cast from:body"' in shown
    assert "No votes yet." in shown
    assert "Pending" in shown and "Active" in shown  # the timeline


def test_voting_with_htmx_answers_with_the_ballot_and_reloads_the_tally(browser: Browser, commons, factory):
    bob = browser(commons["bob"])
    address = open_vote(bob, factory, kind="signal", title="Quadratic question", method="quadratic")
    answer = bob.post(f"{address}/vote", data=with_csrf(bob, choice="against"), headers=HX)
    assert (answer.status_code, answer.headers["HX-Trigger"]) == (200, "vote-cast")
    assert answer.text.lstrip().startswith('<section id="ballot"') and "Your vote is counted" in answer.text
    assert "Against with power 20" in answer.text
    tally = bob.get(f"{address}/tally").text
    assert 'data-choice="1">20<' in tally and 'aria-label="Tally: for 0, against 20, abstain 0"' in tally
    changed = bob.post(f"{address}/vote", data=with_csrf(bob, choice="for"), follow_redirects=False)
    assert changed.status_code == 303
    shown = bob.get(address).text
    assert "For with power 20" in shown and "changed since" in shown and "1 vote counted" in shown


def test_a_refused_vote_is_shown_in_the_ballot(browser: Browser, commons, factory):
    alice = browser(commons["alice"])
    address = open_vote(
        alice, factory, kind="signal", title="Members only", community="water-watch", method="one_member"
    )
    erin = browser(commons["erin"])
    page = erin.get(address).text
    assert (
        "You have no voting power on this proposal" in page
        and "only those who were members of water-watch" in page
    )
    refused = erin.post(f"{address}/vote", data=with_csrf(erin, choice="for"), headers=HX)
    assert refused.status_code == 403 and "you were not a member of water-watch in the log" in refused.text
    bad = alice.post(f"{address}/vote", data=with_csrf(alice, choice="perhaps"))
    assert bad.status_code == 422 and "choose for, against or abstain" in bad.text


def test_ranked_and_approval_ballots_from_the_form(browser: Browser, commons, factory):
    alice = browser(commons["alice"])
    options = "Solar pumps\nRain tanks\nFilters"
    ranked = open_vote(alice, factory, kind="signal", title="What first?", method="ranked", options=options)
    assert 'for="rank-2">Filters</label>' in alice.get(ranked).text
    voted = alice.post(f"{ranked}/vote", data=with_csrf(alice, **{"rank-0": "2", "rank-2": "1"}), headers=HX)
    assert "1. Filters, 2. Solar pumps" in voted.text
    clash = alice.post(f"{ranked}/vote", data=with_csrf(alice, **{"rank-0": "1", "rank-1": "1"}), headers=HX)
    assert clash.status_code == 422 and "give each option a different rank" in clash.text
    approval = open_vote(
        alice, factory, kind="signal", title="Which ones?", method="approval", options=options
    )
    chosen = alice.post(f"{approval}/vote", data=with_csrf(alice, **{"approve[]": ["0", "2"]}), headers=HX)
    assert "Approve Solar pumps, Filters" in chosen.text


def test_cancelling_from_the_page(browser: Browser, commons, factory):
    alice = browser(commons["alice"])
    address = new_proposal(alice, kind="signal", title="Changed my mind", method="one_member")
    assert "Cancel proposal" not in browser(commons["erin"]).get(address).text
    refused = browser(commons["erin"]).post(f"{address}/cancel", data={"csrf_token": "x"})
    assert refused.status_code == 403
    alice.post(f"{address}/cancel", data=with_csrf(alice))
    assert 'id="state">Canceled<' in alice.get(address).text
    again = alice.post(f"{address}/cancel", data=with_csrf(alice))
    assert again.status_code == 409 and "is not canceled" in again.text


def test_the_parameters_page(browser: Browser, commons):
    shown = browser().get("/governance/parameters").text
    assert 'id="value-governance-quorum-percent">50 percent<' in shown
    assert "Reward policy" in shown and "New problems" in shown and "Propose a change" not in shown
    assert "Propose a change" in browser(commons["alice"]).get("/governance/parameters").text


def test_a_hidden_proposal_is_the_404_page(browser: Browser, commons):
    assert browser().get("/governance/404").status_code == 404


def test_the_chart_and_the_form_choices_by_method():
    chart = tally_chart(["for", "against", "abstain"], [3, 1, 0])
    assert chart is not None and [round(bar.width) for bar in chart.bars] == [190, 63, 0]
    assert tally_chart(["for", "against", "abstain"], [0, 0, 0]) is None
    ranked = Proposal(method="ranked", options=["a", "b", "c"])
    assert choice_of(ranked, {"rank-2": "1", "rank-0": "3", "rank-1": ""}) == [2, 0]
    approval = Proposal(method="approval", options=["a", "b"])
    assert choice_of(approval, {"approve": "1"}) == [1]
    assert choice_of(Proposal(method="token"), {"choice": "for"}) == "for"
