"""The reuse of a community's insights, read from `insights:reuse:record` entries however they carry
their origin; private communities are named only to those who may see them."""

from tests.journeys.conftest import Person

REUSE = "insights:reuse:record"


def reuse(contribute, person: Person, reuser: str, **shape) -> None:
    contribute(person, reuser, event=REUSE, **shape)


def test_reuses_by_community_sector_and_insight(people, ids, contribute, dashboard):
    steward = people["steward"]
    reuse(contribute, steward, "lakes", subject={"insight": 7, "origin": ids["rivers"]})
    reuse(contribute, steward, "lakes", data={"insight": 8, "origin": ids["rivers"]})
    reuse(contribute, steward, "cove", subject={"insight": 7}, data={"origin": ids["rivers"]})
    found = dashboard("rivers", viewer=people["member"]).reuse
    assert [(row.slug, row.name, row.reuses) for row in found.by_community] == [
        ("lakes", "Community lakes", 2),
        ("cove", "The Cove", 1),
    ]
    assert [(row.sector, row.reuses) for row in found.by_sector] == [
        ("climate", 2),
        ("water", 2),
        ("health", 1),
    ]
    assert [(row.insight, row.reuses) for row in found.insights] == [(7, 2), (8, 1)]
    assert found.reused_from == []


def test_the_insights_domains_own_shape_is_read(people, ids, contribute, dashboard):
    shape = {"insight": 5, "origin_community": ids["rivers"]}
    reuse(contribute, people["steward"], "lakes", subject=shape, data={"sectors": ["climate"]})
    found = dashboard("rivers").reuse
    assert (found.reuses, found.communities) == (1, 1)
    assert [(row.insight, row.reuses) for row in found.insights] == [(5, 1)]


def test_the_reusing_side_sees_whose_insights_it_reused(people, ids, contribute, dashboard):
    reuse(contribute, people["steward"], "lakes", subject={"insight": 7, "origin": ids["rivers"]})
    found = dashboard("lakes").reuse
    assert [(row.slug, row.reuses) for row in found.reused_from] == [("rivers", 1)]
    assert found.by_community == found.insights == []


def test_a_private_reuser_is_not_named_to_who_may_not_see_it(people, ids, contribute, dashboard):
    reuse(contribute, people["steward"], "cove", subject={"insight": 7, "origin": ids["rivers"]})
    for viewer in (None, people["outsider"], people["organizer"]):
        found = dashboard("rivers", viewer=viewer).reuse
        assert [(row.slug, row.name, row.reuses) for row in found.by_community] == [
            (None, "a private community", 1)
        ]
        assert [(row.sector, row.reuses) for row in found.by_sector] == [("private", 1)]
    for viewer in (people["member"], people["admin"]):
        assert dashboard("rivers", viewer=viewer).reuse.by_community[0].slug == "cove"


def test_entries_without_a_usable_origin_are_left_out(people, ids, contribute, dashboard):
    steward = people["steward"]
    reuse(contribute, steward, "lakes", subject={"insight": 7})
    reuse(contribute, steward, "lakes", data={"origin": "rivers"})
    reuse(contribute, steward, "rivers", subject={"insight": 7, "origin": ids["rivers"]})
    reuse(contribute, steward, "lakes", data={"origin": {"community": ids["rivers"], "insight": 9}})
    found = dashboard("rivers").reuse
    assert [(row.slug, row.reuses) for row in found.by_community] == [("lakes", 1)]
    assert [(row.insight, row.reuses) for row in found.insights] == [(9, 1)]
