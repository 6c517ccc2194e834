"""Communities through the JSON API: creation, discovery, joining, queues, roles and refusals."""

import pytest
from sqlalchemy import func, select

from aicommons.communities.models import Community, CommunitySdg, CommunitySector, Membership
from aicommons.members.models import GlobalRole
from tests.communities.conftest import community_form


def rows(factory, model) -> int:
    with factory() as db:
        return db.scalar(select(func.count()).select_from(model))


def test_creating_a_community_makes_its_creator_steward(client, steward, new_community):
    created = new_community("nurses", sdgs=[3, 5, 3], sectors=["health", "labour"])
    assert (created["sdgs"], created["sectors"], created["member_count"]) == ([3, 5], ["health", "labour"], 1)
    members = client.get("/api/v1/communities/nurses/members").json()
    assert [(m["handle"], m["role"]) for m in members["items"]] == [("steward", "steward")]


@pytest.mark.parametrize(
    "change",
    [
        {"slug": "Bad Slug!"},
        {"slug": "ab"},
        {"slug": "-leading"},
        {"slug": "x" * 51},
        {"name": "ab"},
        {"format": "party"},
        {"sdgs": [0]},
        {"sdgs": [18]},
        {"sdgs": []},
        {"sectors": []},
        {"sectors": ["astrology"]},
        {"region": "atlantis"},
        {"languages": ["english"]},
        {"visibility": "secret"},
        {"join_policy": "bribe"},
        {"description": "d" * 5001},
        {"unexpected": 1},
    ],
)
def test_bad_community_fields_are_422_and_nothing_is_written(client, steward, factory, change):
    response = client.post("/api/v1/communities", headers=steward, json=community_form("good-slug") | change)
    assert (response.status_code, response.json()["code"]) == (422, "validation_failed")
    assert rows(factory, Community) == rows(factory, Membership) == rows(factory, CommunitySdg) == 0


def test_duplicate_slug_is_409_and_leaves_the_first_untouched(client, steward, new_community, factory):
    new_community("nurses")
    again = client.post("/api/v1/communities", headers=steward, json=community_form("nurses", name="Other"))
    assert (again.status_code, again.json()["code"]) == (409, "slug_taken")
    assert rows(factory, Community) == 1
    assert rows(factory, CommunitySector) == 1
    assert client.get("/api/v1/communities/nurses").json()["name"] == "Community nurses"


def test_anonymous_cannot_create(client):
    response = client.post("/api/v1/communities", json=community_form("nurses"))
    assert (response.status_code, response.json()["code"]) == (401, "not_authenticated")


def test_register_an_existing_team_with_its_steward_and_channels(client, visitor, make_member):
    make_member("grace")
    form = community_form(
        "moh-office", steward="grace", channels=[{"name": "List", "url": "https://l.example.org/x"}]
    )
    created = client.post("/api/v1/communities/register", headers=visitor, json=form).json()
    assert created["registered"] is True
    assert created["channels"] == [{"name": "List", "url": "https://l.example.org/x"}]
    roles = {
        m["handle"]: m["role"] for m in client.get("/api/v1/communities/moh-office/members").json()["items"]
    }
    assert roles == {"grace": "steward", "visitor": "organizer"}


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"steward": "ghost"}, 404, "member_not_found"),
        ({"channels": [{"name": "x", "url": "javascript:alert(1)"}]}, 422, "validation_failed"),
        ({"channels": [{"name": "x", "url": "https://e.org"}] * 11}, 422, "validation_failed"),
    ],
)
def test_bad_registrations_write_nothing(client, visitor, factory, change, status, code):
    form = community_form("moh-office", steward="visitor") | change
    response = client.post("/api/v1/communities/register", headers=visitor, json=form)
    assert (response.status_code, response.json()["code"]) == (status, code)
    assert rows(factory, Community) == 0


def test_browse_filters_by_text_format_sector_sdg_and_region(client, new_community):
    new_community("nurses", name="Nurses on AI")
    new_community(
        "farmers",
        name="Farmers ML",
        description="Crop photos",
        format="event",
        sectors=["agriculture"],
        sdgs=[2],
        region="africa",
    )
    new_community("water", name="Water Lab", description="Sensors for safe water", sdgs=[6], region="asia")

    def slugs(**params):
        return [c["slug"] for c in client.get("/api/v1/communities", params=params).json()["items"]]

    assert slugs() == ["farmers", "nurses", "water"]
    assert slugs(q="nurse") == ["nurses"]
    assert slugs(q="SAFE WATER") == ["water"]
    assert slugs(q="100%") == []
    assert slugs(format="event") == ["farmers"]
    assert slugs(sector="agriculture") == ["farmers"]
    assert slugs(sdg=6) == ["water"]
    assert slugs(region="europe") == ["nurses"]
    assert slugs(q="a", region="asia", sdg=6) == ["water"]


def test_browse_is_paginated(client, new_community):
    for n in range(7):
        new_community(f"group-{n}")
    first = client.get("/api/v1/communities", params={"size": 3}).json()
    last = client.get("/api/v1/communities", params={"size": 3, "page": 3}).json()
    assert (first["total"], len(first["items"]), len(last["items"])) == (7, 3, 1)
    for bad in ({"size": 0}, {"size": 101}, {"page": 0}, {"sdg": 18}, {"format": "x"}, {"region": "mars"}):
        assert client.get("/api/v1/communities", params=bad).status_code == 422


def test_a_private_community_is_invisible_to_non_members(client, steward, visitor, new_community):
    new_community("council", visibility="private", join_policy="invite")
    assert client.get("/api/v1/communities").json()["total"] == 0
    for headers in ({}, visitor):
        assert (
            client.get("/api/v1/communities/council", headers=headers).json()["code"] == "community_not_found"
        )
        assert client.get("/api/v1/communities/council/members", headers=headers).status_code == 404
        assert client.post("/api/v1/communities/council/members", headers=headers).status_code == 404
    assert client.get("/api/v1/communities", headers=steward).json()["total"] == 1
    assert client.get("/api/v1/communities/council", headers=steward).status_code == 200


def test_an_invited_member_sees_the_private_community_and_accepts(client, steward, visitor, new_community):
    new_community("council", visibility="private", join_policy="invite")
    invited = client.post(
        "/api/v1/communities/council/invitations", headers=steward, json={"handle": "visitor"}
    )
    assert invited.json()["status"] == "invited"
    assert client.get("/api/v1/communities/council", headers=visitor).status_code == 200
    assert client.post("/api/v1/communities/council/members", headers=visitor).json()["status"] == "active"
    assert client.get("/api/v1/communities", headers=visitor).json()["total"] == 1


def test_join_and_leave_an_open_community(client, visitor, new_community):
    new_community("nurses")
    joined = client.post("/api/v1/communities/nurses/members", headers=visitor)
    assert (joined.status_code, joined.json()["status"]) == (201, "active")
    assert client.get("/api/v1/communities/nurses").json()["member_count"] == 2
    again = client.post("/api/v1/communities/nurses/members", headers=visitor)
    assert (again.status_code, again.json()["code"]) == (409, "already_member")
    assert client.delete("/api/v1/communities/nurses/members/me", headers=visitor).status_code == 204
    assert client.get("/api/v1/communities/nurses").json()["member_count"] == 1
    gone = client.delete("/api/v1/communities/nurses/members/me", headers=visitor)
    assert (gone.status_code, gone.json()["code"]) == (409, "not_member")


def test_approval_queue(client, steward, visitor, new_community, make_member, token_for):
    new_community("lab", join_policy="approval")
    assert client.post("/api/v1/communities/lab/members", headers=visitor).json()["status"] == "pending"
    assert client.get("/api/v1/communities/lab").json()["member_count"] == 1
    other = token_for(make_member("other"))
    assert client.post("/api/v1/communities/lab/members", headers=other).json()["status"] == "pending"
    queue = client.get("/api/v1/communities/lab/members", headers=steward, params={"state": "pending"}).json()
    assert [m["handle"] for m in queue["items"]] == ["visitor", "other"]
    assert (
        client.get(
            "/api/v1/communities/lab/members", headers=visitor, params={"state": "pending"}
        ).status_code
        == 403
    )
    assert client.post("/api/v1/communities/lab/requests/visitor/approve", headers=visitor).status_code == 403
    assert (
        client.post("/api/v1/communities/lab/requests/visitor/approve", headers=steward).json()["status"]
        == "active"
    )
    assert client.post("/api/v1/communities/lab/requests/other/reject", headers=steward).status_code == 204
    missing = client.post("/api/v1/communities/lab/requests/other/approve", headers=steward)
    assert (missing.status_code, missing.json()["code"]) == (404, "request_not_found")
    assert client.get("/api/v1/communities/lab").json()["member_count"] == 2


def test_invite_only_refuses_uninvited_joins(client, visitor, new_community):
    new_community("board", join_policy="invite")
    response = client.post("/api/v1/communities/board/members", headers=visitor)
    assert (response.status_code, response.json()["code"]) == (403, "community_closed")


def test_the_last_steward_cannot_leave_or_step_down(client, steward, visitor, new_community):
    new_community("nurses")
    assert (
        client.delete("/api/v1/communities/nurses/members/me", headers=steward).json()["code"]
        == "last_steward"
    )
    demote = client.put(
        "/api/v1/communities/nurses/members/steward/role", headers=steward, json={"role": "member"}
    )
    assert demote.json()["code"] == "last_steward"
    client.post("/api/v1/communities/nurses/members", headers=visitor)
    promote = client.put(
        "/api/v1/communities/nurses/members/visitor/role", headers=steward, json={"role": "steward"}
    )
    assert promote.json()["role"] == "steward"
    assert client.delete("/api/v1/communities/nurses/members/me", headers=steward).status_code == 204


def test_edit_and_archive(client, steward, visitor, new_community):
    new_community("nurses")
    edited = client.patch(
        "/api/v1/communities/nurses", headers=steward, json={"name": "Carers on AI", "sdgs": [3, 8]}
    )
    assert (edited.json()["name"], edited.json()["sdgs"]) == ("Carers on AI", [3, 8])
    assert client.patch("/api/v1/communities/nurses", headers=steward, json={"slug": "x"}).status_code == 422
    assert client.patch("/api/v1/communities/nurses", headers=steward, json={"sdgs": [99]}).status_code == 422
    assert client.post("/api/v1/communities/nurses/archive", headers=steward).json()["archived"] is True
    assert client.get("/api/v1/communities").json()["total"] == 0
    assert client.get("/api/v1/communities", params={"archived": True}).json()["total"] == 1
    refused = client.post("/api/v1/communities/nurses/members", headers=visitor)
    assert (refused.status_code, refused.json()["code"]) == (409, "community_archived")


def test_unknown_community_is_404(client, visitor):
    for method, path in [("GET", ""), ("PATCH", ""), ("POST", "/members"), ("POST", "/archive")]:
        response = client.request(method, f"/api/v1/communities/nowhere{path}", headers=visitor, json={})
        assert (response.status_code, response.json()["code"]) == (404, "community_not_found")


ROLE_MATRIX = [
    # who, can edit/archive/set roles, can decide requests/invite/refresh stats
    ("admin", True, True),
    ("steward", True, True),
    ("organizer", False, True),
    ("member", False, False),
    ("outsider", False, False),
    ("moderator", False, False),
]


@pytest.mark.parametrize(("who", "may_lead", "may_organize"), ROLE_MATRIX)
def test_every_role_gets_exactly_its_powers(
    client, steward, new_community, make_member, token_for, who, may_lead, may_organize
):
    new_community("lab", join_policy="approval")
    global_role = {"admin": GlobalRole.ADMIN, "moderator": GlobalRole.MODERATOR}.get(who, GlobalRole.MEMBER)
    headers = steward if who == "steward" else token_for(make_member("actor", global_role))
    if who in ("organizer", "member"):
        client.post("/api/v1/communities/lab/invitations", headers=steward, json={"handle": "actor"})
        client.post("/api/v1/communities/lab/members", headers=headers)
        client.put("/api/v1/communities/lab/members/actor/role", headers=steward, json={"role": who})
    token_for(make_member("asker"))
    client.post("/api/v1/communities/lab/members", headers=token_for(make_member("joiner")))
    lead_calls = [
        client.patch("/api/v1/communities/lab", headers=headers, json={"description": "new"}),
        client.put("/api/v1/communities/lab/members/steward/role", headers=headers, json={"role": "steward"}),
    ]
    organize_calls = [
        client.post("/api/v1/communities/lab/invitations", headers=headers, json={"handle": "asker"}),
        client.post("/api/v1/communities/lab/requests/joiner/approve", headers=headers),
        client.post("/api/v1/communities/lab/stats/refresh", headers=headers),
    ]
    assert [r.status_code < 400 for r in lead_calls] == [may_lead] * 2, [r.text for r in lead_calls]
    assert [r.status_code < 400 for r in organize_calls] == [may_organize] * 3, [
        r.text for r in organize_calls
    ]
    assert all(r.json()["code"] == "forbidden" for r in lead_calls + organize_calls if r.status_code >= 400)
    archive = client.post("/api/v1/communities/lab/archive", headers=headers)
    assert (archive.status_code < 400) == may_lead


def test_statistics_are_refreshed_by_a_background_job(client, app, steward, visitor, new_community):
    new_community("nurses")
    client.post("/api/v1/communities/nurses/members", headers=visitor)
    client.patch("/api/v1/me", headers=visitor, json={"sectors": ["health"], "languages": ["fr"]})
    assert client.get("/api/v1/communities/nurses/stats").json() == {"figures": {}, "refreshed_at": None}
    job = client.post("/api/v1/communities/nurses/stats/refresh", headers=steward).json()
    assert job["state"] == "queued"
    assert make_app_worker(app).run_once() == job["id"]
    assert client.get(f"/api/v1/jobs/{job['id']}", headers=steward).json()["state"] == "succeeded"
    assert client.get(f"/api/v1/jobs/{job['id']}", headers=visitor).json()["code"] == "job_not_found"
    figures = client.get("/api/v1/communities/nurses/stats").json()["figures"]
    assert figures == {
        "members": 2,
        "pending": 0,
        "by_role": {"member": 1, "steward": 1},
        "by_sector": {"health": 1},
        "by_language": {"fr": 1},
    }


def make_app_worker(app):
    from aicommons.app import make_worker

    return make_worker(app.state.settings, app.state.session_factory, app.state.log)
