"""Notifications reach only their member, newest first; the navigation counts the unread ones."""

from aicommons.core.db import unit_of_work
from aicommons.members import notifications


def test_a_member_reads_their_notifications_and_marks_them_read(client, factory, make_member, token_for):
    amina, jonas = make_member("amina"), make_member("jonas")
    with unit_of_work(factory) as session:
        notifications.notify(session, amina.id, kind="digest", title="3 new insights", url="/insights")
        notifications.notify(session, amina.id, kind="waitlist", title="You have a place", url="/events/1")
        notifications.notify(session, jonas.id, kind="digest", title="for jonas only")
    mine = client.get("/api/v1/me/notifications", headers=token_for(amina)).json()
    assert [note["title"] for note in mine["items"]] == ["You have a place", "3 new insights"]
    assert (mine["unread"], mine["total"]) == (2, 2)
    assert client.post("/api/v1/me/notifications/read", headers=token_for(amina)).status_code == 204
    assert client.get("/api/v1/me/notifications", headers=token_for(amina)).json()["unread"] == 0
    assert client.get("/api/v1/me/notifications", headers=token_for(jonas)).json()["unread"] == 1


def test_the_notifications_page_needs_a_login_and_the_badge_is_empty_for_visitors(client):
    assert client.get("/notifications", follow_redirects=False).status_code == 303
    assert client.get("/notifications/count").text == "Notifications"
    assert client.get("/api/v1/me/notifications").json()["code"] == "not_authenticated"
