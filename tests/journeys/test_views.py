"""The journeys pages without a browser: the dashboard and its HTMX fragment, the "your journey here"
fragment of every community page (which records visits), and your journeys."""

import re

import pytest
from sqlalchemy import select

from aicommons.journeys.models import CommunityVisit

HTML = {"accept": "text/html"}
CONVERSION = {"HX-Request": "true", "HX-Target": "conversion"}


def page(client, path, person=None, **headers):
    return client.get(
        path, headers=HTML | (person.headers if person else {}) | headers, follow_redirects=False
    )


def visits(factory) -> list[tuple[int, int]]:
    with factory() as db:
        return [(row.community_id, row.member_id) for row in db.scalars(select(CommunityVisit))]


def test_the_dashboard_draws_the_funnel_the_conversion_and_the_figures(client, people, contribute):
    contribute(people["member"], "rivers", times=3)
    shown = page(client, "/communities/rivers/journeys")
    assert shown.status_code == 200
    assert "<h1>Journeys in Community rivers</h1>" in shown.text
    assert 'aria-label="Funnel: members who reached each stage' in shown.text
    assert shown.text.count("<svg ") == 6, "the funnel and five conversion steps"
    assert "<title>Participating: 3 reached it, 1 at this stage now</title>" in shown.text
    assert re.search(
        r"<th scope=\"row\" data-label=\"Stage\">Leading</th>\s*<td[^>]*>steward or organizer", shown.text
    )
    assert "No community has recorded reusing its insights yet" in shown.text
    assert shown.headers["Vary"] == "HX-Request, HX-Target"


def test_the_period_form_swaps_only_the_conversion_section(client, people):
    swapped = page(client, "/communities/rivers/journeys?months=6", **CONVERSION)
    assert swapped.status_code == 200
    assert swapped.text.lstrip().startswith('<section id="conversion"')
    assert "<html" not in swapped.text and "Funnel" not in swapped.text
    assert swapped.text.count('<th scope="row" data-label="Month">') == 6
    assert '<option value="6" selected>' in swapped.text


def test_reuse_charts_appear_when_insights_were_reused(client, people, ids, contribute):
    contribute(
        people["steward"],
        "lakes",
        event="insights:reuse:record",
        subject={"insight": 4, "origin": ids["rivers"]},
    )
    shown = page(client, "/communities/rivers/journeys").text
    assert "Communities that reused its insights" in shown and "Insight 4: 1 reuse" in shown
    assert '<a href="/communities/lakes">Community lakes</a>: 1 reuse' in shown


@pytest.mark.parametrize("months", ["0", "99", "soon"])
def test_a_bad_period_is_an_error_page(client, people, months):
    shown = page(client, f"/communities/rivers/journeys?months={months}")
    assert shown.status_code == 422 and "<html" in shown.text


def test_a_private_dashboard_is_a_404_page_for_outsiders(client, people):
    assert page(client, "/communities/cove/journeys", people["outsider"]).status_code == 404
    assert page(client, "/communities/cove/journeys").status_code == 404
    assert page(client, "/communities/cove/journeys", people["member"]).status_code == 200


def test_your_journey_here_records_a_members_visit_and_tells_their_stage(client, people, ids, factory):
    shown = page(client, "/communities/lakes/journeys/you", people["outsider"], **{"HX-Request": "true"})
    assert shown.status_code == 200
    assert 'Your journey here: <strong class="stage">discovered</strong>' in shown.text
    assert "Join the community to take part." in shown.text
    page(client, "/communities/lakes/journeys/you", people["outsider"])
    assert visits(factory) == [(ids["lakes"], people["outsider"].id)]
    steward = page(client, "/communities/lakes/journeys/you", people["steward"]).text
    assert '<strong class="stage">leading</strong>' in steward


def test_an_anonymous_visitor_is_invited_and_nothing_is_recorded(client, people, factory):
    shown = page(client, "/communities/rivers/journeys/you")
    assert shown.status_code == 200
    assert '<a href="/login?next=/communities/rivers">Log in</a>' in shown.text
    assert visits(factory) == []


def test_no_visit_is_recorded_where_the_member_may_not_look(client, people, factory):
    assert page(client, "/communities/cove/journeys/you", people["outsider"]).status_code == 404
    assert page(client, "/communities/nowhere/journeys/you", people["outsider"]).status_code == 404
    assert visits(factory) == []


def test_your_journeys_page_lists_your_stages_and_needs_a_login(client, people, contribute):
    contribute(people["member"], "lakes")
    shown = page(client, "/journeys", people["member"])
    assert shown.status_code == 200
    rows = re.findall(
        r'<a href="/communities/([a-z-]+)">[^<]+</a></td>\s*<td data-label="Stage"><strong>(\w+)', shown.text
    )
    assert rows == [("lakes", "Contributed"), ("rivers", "Joined"), ("cove", "Joined")]
    assert page(client, "/journeys", people["outsider"]).text.count("No journey yet") == 1
    anonymous = page(client, "/journeys")
    assert (anonymous.status_code, anonymous.headers["location"]) == (303, "/login?next=/journeys")
