"""Who may act for a dataset, role by role: community stewards and organizers own its data, plain
members and outsiders do not, admins may do what owners may."""

import pytest

from aicommons.members.models import GlobalRole
from tests.communities.conftest import community_form
from tests.datasets.conftest import CSV, dataset_form, upload


@pytest.fixture
def people(client, make_member, token_for) -> dict[str, dict[str, str]]:
    """A community `rivers` with a steward, an organizer and a member; an outsider and an admin."""
    heads = {name: token_for(make_member(name)) for name in ("steward", "organizer", "member", "outsider")}
    heads["admin"] = token_for(make_member("admin", GlobalRole.ADMIN))
    assert (
        client.post(
            "/api/v1/communities", json=community_form("rivers"), headers=heads["steward"]
        ).status_code
        == 201
    )
    for name in ("organizer", "member"):
        assert client.post("/api/v1/communities/rivers/members", headers=heads[name]).status_code == 201
    role = client.put(
        "/api/v1/communities/rivers/members/organizer/role",
        json={"role": "organizer"},
        headers=heads["steward"],
    )
    assert role.status_code == 200, role.text
    return heads


def test_only_stewards_and_organizers_register_data_for_their_community(client, people):
    for name, status in (("member", 403), ("outsider", 403), ("organizer", 201), ("admin", 201)):
        form = dataset_form(f"River levels by {name}", community="rivers")
        assert client.post("/api/v1/datasets", json=form, headers=people[name]).status_code == status, name


@pytest.mark.parametrize(
    ("name", "allowed"),
    [("steward", True), ("organizer", True), ("admin", True), ("member", False), ("outsider", False)],
)
def test_owner_actions_by_role_on_community_data(client, people, name, allowed):
    form = dataset_form("River levels", community="rivers", policy="gated")
    slug = client.post("/api/v1/datasets", json=form, headers=people["steward"]).json()["slug"]
    assert upload(client, slug, CSV, people["steward"]).status_code == 201
    headers = people[name]
    answers = {
        "upload": upload(client, slug, CSV + b"Quito,2022,900,false\n", headers).status_code,
        "requests": client.get(f"/api/v1/datasets/{slug}/requests", headers=headers).status_code,
        "usage": client.get(f"/api/v1/datasets/{slug}/usage", headers=headers).status_code,
        "edit": client.patch(f"/api/v1/datasets/{slug}", json={"summary": "x"}, headers=headers).status_code,
        "download": client.get(f"/api/v1/datasets/{slug}/download", headers=headers).status_code,
    }
    expected = {"upload": 201, "requests": 200, "usage": 200, "edit": 200, "download": 200}
    refused = {"upload": 403, "requests": 403, "usage": 403, "edit": 403, "download": 403}
    assert answers == (expected if allowed else refused)


def test_anonymous_visitors_read_the_catalog_but_act_only_on_open_data(client, people):
    gated = client.post(
        "/api/v1/datasets", json=dataset_form("Gated", policy="gated"), headers=people["member"]
    )
    slug = gated.json()["slug"]
    upload(client, slug, CSV, people["member"])
    assert client.get("/api/v1/datasets").status_code == 200
    assert client.get(f"/api/v1/datasets/{slug}").status_code == 200
    assert client.get(f"/api/v1/datasets/{slug}/download").json()["code"] == "not_authenticated"
    assert client.post(f"/api/v1/datasets/{slug}/requests", json={"reason": "why not"}).status_code == 401
    assert client.post(f"/api/v1/datasets/{slug}/licenses").status_code == 401
