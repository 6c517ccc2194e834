"""The journeys API: a community's dashboard for whoever may see the community, your own journeys for
you alone, and refusals that change nothing."""

import pytest
from sqlalchemy import func, select

from aicommons.journeys.models import CommunityVisit
from aicommons.ledger.models import LogRecord

STAGES = ["discovered", "joined", "contributed", "participating", "networked", "leading"]


def count(factory, model) -> int:
    with factory() as db:
        return db.scalar(select(func.count()).select_from(model)) or 0


def test_the_dashboard_holds_the_funnel_its_months_and_the_reuse(client, people, contribute):
    contribute(people["member"], "rivers", times=3)
    answer = client.get("/api/v1/communities/rivers/journeys")
    assert answer.status_code == 200
    found = answer.json()
    assert found["community"] == "rivers" and found["as_of"]
    assert [(row["stage"], row["members"], row["reached"]) for row in found["funnel"]] == [
        ("discovered", 0, 3),
        ("joined", 0, 3),
        ("contributed", 0, 3),
        ("participating", 1, 3),
        ("networked", 0, 2),
        ("leading", 2, 2),
    ]
    assert len(found["months"]) == 12
    this_month = found["months"][-1]
    assert list(this_month["reached"]) == STAGES
    assert this_month["steps"][-1] == {"from_stage": "networked", "to_stage": "leading", "share": 1.0}
    assert this_month["steps"][2]["share"] == 1.0
    assert found["reuse"] == {
        "reuses": 0,
        "communities": 0,
        "by_community": [],
        "by_sector": [],
        "insights": [],
        "reused_from": [],
    }


def test_months_choose_the_history_asked_for(client, people):
    assert len(client.get("/api/v1/communities/rivers/journeys?months=1").json()["months"]) == 1
    assert len(client.get("/api/v1/communities/rivers/journeys?months=24").json()["months"]) == 24


@pytest.mark.parametrize("months", ["0", "25", "-3", "twelve", "1.5"])
def test_a_bad_number_of_months_is_422(client, people, months):
    answer = client.get(f"/api/v1/communities/rivers/journeys?months={months}")
    assert (answer.status_code, answer.json()["code"]) == (422, "validation_failed")


@pytest.mark.parametrize(
    ("name", "status"),
    [
        (None, 404),
        ("outsider", 404),
        ("organizer", 404),
        ("member", 200),
        ("steward", 200),
        ("admin", 200),
    ],
)
def test_a_private_communitys_dashboard_exists_only_for_who_may_see_it(client, people, name, status):
    headers = people[name].headers if name else {}
    answer = client.get("/api/v1/communities/cove/journeys", headers=headers)
    assert answer.status_code == status
    if status == 404:
        assert answer.json()["code"] == "community_not_found"


@pytest.mark.parametrize("name", [None, "outsider", "member", "organizer", "steward", "admin"])
def test_a_public_communitys_dashboard_is_the_same_for_everyone(client, people, name):
    headers = people[name].headers if name else {}
    found = client.get("/api/v1/communities/rivers/journeys", headers=headers).json()
    assert [row["reached"] for row in found["funnel"]] == [3, 3, 2, 2, 2, 2]


def test_an_unknown_community_is_404(client, people):
    answer = client.get("/api/v1/communities/nowhere/journeys")
    assert (answer.status_code, answer.json()["code"]) == (404, "community_not_found")


def test_reading_dashboards_writes_nothing(client, people, factory):
    records, visits = count(factory, LogRecord), count(factory, CommunityVisit)
    for headers in ({}, people["outsider"].headers, people["steward"].headers):
        client.get("/api/v1/communities/rivers/journeys", headers=headers)
        client.get("/api/v1/me/journeys", headers=headers)
    assert (count(factory, LogRecord), count(factory, CommunityVisit)) == (records, visits)


def test_my_journeys_are_mine_alone(client, people, contribute):
    contribute(people["member"], "lakes")
    mine = client.get("/api/v1/me/journeys", headers=people["member"].headers).json()
    assert [(row["community"], row["stage"]) for row in mine["items"]] == [
        ("lakes", "contributed"),
        ("rivers", "joined"),
        ("cove", "joined"),
    ]
    assert mine["items"][0]["name"] == "Community lakes"
    assert "2 more contributions" in mine["items"][0]["next_step"]
    assert (mine["total"], mine["page"], mine["size"]) == (3, 1, 20)
    assert client.get("/api/v1/me/journeys", headers=people["outsider"].headers).json()["items"] == []


def test_my_journeys_need_a_login_and_a_valid_page(client, people):
    anonymous = client.get("/api/v1/me/journeys")
    assert (anonymous.status_code, anonymous.json()["code"]) == (401, "not_authenticated")
    wrong = client.get("/api/v1/me/journeys", headers={"Authorization": "Bearer nope"})
    assert (wrong.status_code, wrong.json()["code"]) == (401, "invalid_token")
    for query in ("page=0", "size=0", "size=101", "page=x"):
        answer = client.get(f"/api/v1/me/journeys?{query}", headers=people["member"].headers)
        assert (answer.status_code, answer.json()["code"]) == (422, "validation_failed"), query
    second = client.get("/api/v1/me/journeys?size=1&page=2", headers=people["member"].headers).json()
    assert ([row["community"] for row in second["items"]], second["total"]) == (["cove"], 2)
    beyond = client.get("/api/v1/me/journeys?size=1&page=3", headers=people["member"].headers).json()
    assert (beyond["items"], beyond["total"]) == ([], 2)
