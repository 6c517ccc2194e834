"""The rules of concerns on a real database: the lifecycle (every pair of statuses), merging, flags and the
hiding threshold, rate limits, escalation, responders, notifications and what reaches the log."""

import json

import pytest
from pydantic import ValidationError
from sqlalchemy import func, select

from aicommons.concerns import service
from aicommons.concerns.models import Concern, Corroboration, FlagReason, Status
from aicommons.concerns.people import Person
from aicommons.concerns.schemas import Escalation, ResponderCreate, ResponseCreate, StatusChangeCreate
from aicommons.core.errors import CommonsError, ErrorCode
from aicommons.core.pagination import PageRequest
from aicommons.ledger.models import LogRecord
from aicommons.members.models import GlobalRole
from aicommons.members.notifications import Notification
from tests.concerns.conftest import add_member, anonymous, established, policy_community, raise_one

ALLOWED = {
    Status.RECEIVED: {Status.TRIAGED, Status.CLOSED},
    Status.TRIAGED: {Status.UNDER_DISCUSSION, Status.ESCALATED, Status.RESOLVED, Status.CLOSED},
    Status.UNDER_DISCUSSION: {Status.ESCALATED, Status.RESOLVED, Status.CLOSED},
    Status.ESCALATED: {Status.UNDER_DISCUSSION, Status.RESOLVED, Status.CLOSED},
    Status.RESOLVED: set(),
    Status.CLOSED: set(),
}
PAIRS = [(before, after) for before in Status for after in Status]


@pytest.fixture
def moderator(session):
    return add_member(session, "mona", GlobalRole.MODERATOR)


def records(session, event: str) -> list[dict]:
    rows = session.scalars(select(LogRecord).where(LogRecord.event == event).order_by(LogRecord.id))
    return [json.loads(row.body) | {"community_id": row.community_id} for row in rows]


def go(session, moderator, concern: Concern, to: Status) -> None:
    if to == Status.ESCALATED:
        form = Escalation(aiid=True, reason="For the incident database.")
        service.escalate(session=session, actor=moderator, concern=concern, form=form)
    else:
        change = StatusChangeCreate(status=to, reason="Because.")
        service.move(session=session, actor=moderator, concern=concern, change=change)


def test_the_service_table_is_the_documented_one():
    assert {status: set(targets) for status, targets in service.TRANSITIONS.items()} == ALLOWED


@pytest.mark.parametrize(("before", "after"), PAIRS, ids=[f"{a}->{b}" for a, b in PAIRS])
def test_every_pair_of_statuses_is_allowed_or_refused_as_the_table_says(session, moderator, before, after):
    concern = raise_one(session).concern
    concern.status = before
    session.flush()
    if after in ALLOWED[before]:
        go(session, moderator, concern, after)
        assert concern.status == after
        assert (concern.history[-1].from_status, concern.history[-1].to_status) == (before, after)
        return
    with pytest.raises(CommonsError) as refused:
        go(session, moderator, concern, after)
    assert refused.value.code is ErrorCode.BAD_TRANSITION
    assert concern.status == before and len(concern.history) == 1
    assert records(session, "concerns:concern:status") == []


def test_closing_needs_a_reason_and_escalating_has_its_own_form():
    with pytest.raises(ValidationError, match="say why"):
        StatusChangeCreate(status="closed")
    with pytest.raises(ValidationError, match="say why"):
        StatusChangeCreate(status="closed", reason="   ")
    with pytest.raises(ValidationError, match="escalation form"):
        StatusChangeCreate(status="escalated", reason="Big.")
    assert StatusChangeCreate(status="triaged").reason == ""


def test_receiving_logs_no_actor_and_no_personal_data(session):
    member = add_member(session, "rita")
    received = raise_one(
        session,
        Person(member=member, address="a" * 64),
        contact="rita@example.org",
        what_happened="Rita Rossi at +33 6 12 34 56 78 saw TriageBot ignore chest pain.",
    )
    [entry] = records(session, "concerns:concern:receive")
    assert entry["actor"] is None and entry["community_id"] is None
    assert entry["subject"] == {"concern": received.concern.id}
    assert entry["data"] == {"harm": "incident", "worry": "high"}
    assert received.token.startswith("aict_") and received.concern.tracking_hash != received.token
    assert service.by_token(session=session, token=received.token) is received.concern


def test_a_status_change_logs_the_moderator_and_a_redacted_reason_and_tells_the_reporter(session, moderator):
    rita = add_member(session, "rita")
    concern = raise_one(session, Person(member=rita, address="b" * 64)).concern
    change = StatusChangeCreate(status="triaged", reason="We wrote to jane@example.org about it.")
    service.move(session=session, actor=moderator, concern=concern, change=change)
    [entry] = records(session, "concerns:concern:status")
    assert entry["actor"] == f"member:{moderator.id}"
    assert entry["data"] == {
        "from": "received",
        "to": "triaged",
        "reason": "We wrote to [email removed] about it.",
    }
    told = session.scalars(select(Notification).where(Notification.member_id == rita.id)).one()
    assert (told.title, told.url) == (f"Your concern #{concern.id} is now triaged", f"/concerns/{concern.id}")


def test_merging_closes_the_duplicate_and_moves_its_corroborations_once(session, moderator):
    rita = add_member(session, "rita")
    kept = raise_one(session, Person(member=rita, address="c" * 64)).concern
    duplicate = raise_one(session, anonymous("10.0.0.1")).concern
    for address, sector in (("1", "health"), ("2", "education"), ("3", "transport")):
        service.corroborate(session=session, concern=duplicate, person=anonymous(address), sector=sector)
    service.corroborate(session=session, concern=kept, person=anonymous("1"), sector="health")
    service.corroborate(session=session, concern=duplicate, person=Person(rita, "x"), sector="labour")
    service.merge(session=session, actor=moderator, concern=duplicate, into=kept.id)
    assert (duplicate.status, duplicate.history[-1].reason) == (Status.CLOSED, f"duplicate of #{kept.id}")
    assert duplicate.merged_into_id == kept.id
    assert (kept.corroboration_count, duplicate.corroboration_count) == (3, 0)
    assert service.sectors(session=session, concern=kept) == {"education": 1, "health": 1, "transport": 1}
    [merged] = records(session, "concerns:concern:merge")
    assert (merged["subject"], merged["data"]) == ({"concern": duplicate.id}, {"into": kept.id})


@pytest.mark.parametrize(
    ("into", "code"),
    [
        ("self", ErrorCode.VALIDATION_FAILED),
        ("missing", ErrorCode.CONCERN_NOT_FOUND),
        ("closed", ErrorCode.BAD_TRANSITION),
    ],
)
def test_a_refused_merge_changes_nothing(session, moderator, into, code):
    concern = raise_one(session).concern
    closed = raise_one(session, anonymous("10.0.0.2")).concern
    go(session, moderator, closed, Status.CLOSED)
    service.corroborate(session=session, concern=concern, person=anonymous("9"), sector="health")
    target = {"self": concern.id, "missing": 999, "closed": closed.id}[into]
    with pytest.raises(CommonsError) as refused:
        service.merge(session=session, actor=moderator, concern=concern, into=target)
    assert refused.value.code is code
    assert (concern.status, concern.merged_into_id, concern.corroboration_count) == (Status.RECEIVED, None, 1)
    assert records(session, "concerns:concern:merge") == []


def members_of(session, *handles: str) -> list[Person]:
    """Established members (a month old), as flaggers."""
    return [Person(member=established(session, handle), address=handle) for handle in handles]


def test_three_distinct_flaggers_hide_a_concern_and_tell_the_moderators(session, moderator):
    concern = raise_one(session).concern
    ana, ben, cyd = members_of(session, "ana", "ben", "cyd")
    for _ in range(3):
        service.flag(session=session, concern=concern, person=ana, reason=FlagReason.SPAM)
    assert (concern.flag_count, concern.hidden) == (1, False)
    service.flag(session=session, concern=concern, person=ben, reason=FlagReason.OFF_TOPIC)
    assert not concern.hidden
    flagged = service.flag(session=session, concern=concern, person=cyd, reason=FlagReason.PERSONAL_DATA)
    assert flagged.new and concern.hidden and concern.flag_count == service.HIDE_AT
    [hidden] = records(session, "concerns:concern:hide")
    assert hidden["actor"] is None and hidden["data"] == {"automatic": True, "flags": 3}
    told = session.scalars(select(Notification).where(Notification.member_id == moderator.id)).one()
    assert told.url == "/concerns/moderation"
    tally = service.flag_tally(session=session, concerns=[concern])
    assert tally == {concern.id: {"spam": 1, "off-topic": 1, "personal-data": 1}}


def test_restoring_settles_the_flags_so_the_same_flaggers_cannot_hide_it_again(session, moderator):
    concern = raise_one(session).concern
    flaggers = members_of(session, "ana", "ben", "cyd")
    for person in flaggers:
        service.flag(session=session, concern=concern, person=person, reason=FlagReason.SPAM)
    assert concern.hidden
    service.restore(session=session, actor=moderator, concern=concern)
    assert (concern.hidden, concern.flag_count) == (False, 0)
    for person in flaggers:
        assert not service.flag(session=session, concern=concern, person=person, reason=FlagReason.SPAM).new
    assert not concern.hidden and service.flag_tally(session=session, concerns=[concern]) == {}
    [restored] = records(session, "concerns:concern:restore")
    assert restored["actor"] == f"member:{moderator.id}"


def test_a_hidden_concern_is_out_of_the_list_and_not_found_but_by_its_reporter_and_moderators(
    session, moderator
):
    rita = add_member(session, "rita")
    concern = raise_one(session, Person(rita, "r")).concern
    service.hide(session=session, actor=moderator, concern=concern, reason="Names a patient.")
    assert service.browse(session=session, status=None, page=PageRequest()).total == 0
    with pytest.raises(CommonsError) as hidden:
        service.get(session=session, concern_id=concern.id, viewer=None)
    assert hidden.value.code is ErrorCode.CONCERN_NOT_FOUND
    for viewer in (rita, moderator):
        assert service.get(session=session, concern_id=concern.id, viewer=viewer) is concern
    assert service.mine(session=session, member=rita, page=PageRequest()).items == [concern]


@pytest.mark.parametrize(
    ("kind", "person"),
    [("concern:address", anonymous("192.0.2.1")), ("concern:member", None)],
)
def test_raising_concerns_is_rate_limited_per_address_and_per_member(session, kind, person):
    person = person or Person(add_member(session, "rita"), "same")
    for _ in range(service.LIMITS[kind].hits):
        raise_one(session, person)
    with pytest.raises(CommonsError) as limited:
        raise_one(session, person)
    assert limited.value.code is ErrorCode.RATE_LIMITED
    raise_one(session, anonymous("192.0.2.99"))  # someone else is not held back


@pytest.mark.parametrize("kind", ["corroboration", "flag"])
def test_corroborations_and_flags_are_rate_limited_per_person(session, kind):
    concerns = [raise_one(session, anonymous(str(n))).concern for n in range(service.LIMITS[kind].hits + 1)]
    person = anonymous("203.0.113.50")

    def act(concern: Concern) -> None:
        if kind == "flag":
            service.flag(session=session, concern=concern, person=person, reason=FlagReason.SPAM)
        else:
            service.corroborate(session=session, concern=concern, person=person, sector="health")

    for concern in concerns[:-1]:
        act(concern)
    with pytest.raises(CommonsError) as limited:
        act(concerns[-1])
    assert limited.value.code is ErrorCode.RATE_LIMITED


def test_a_person_corroborates_once_and_never_their_own_concern(session):
    rita = add_member(session, "rita")
    concern = raise_one(session, Person(rita, "r")).concern
    service.corroborate(session=session, concern=concern, person=anonymous(), sector="health")
    for person in (anonymous(), Person(rita, "elsewhere")):
        with pytest.raises(CommonsError) as refused:
            service.corroborate(session=session, concern=concern, person=person, sector="health")
        assert refused.value.code is ErrorCode.ALREADY_CORROBORATED
    assert concern.corroboration_count == 1
    [added] = records(session, "concerns:corroboration:add")
    assert added["actor"] is None and added["data"] == {"sector": "health"}


def test_escalating_to_a_private_policy_community_logs_its_id_but_never_its_name(session, moderator):
    steward = add_member(session, "stella")
    private = policy_community(session, steward, "quiet-council", visibility="private")
    private_membership = service.communities.invite(
        session=session, actor=steward, community=private, handle=moderator.handle
    )
    service.communities.join(session=session, community=private, member=moderator)
    assert private_membership.status == "active"
    concern = raise_one(session).concern
    go(session, moderator, concern, Status.TRIAGED)
    form = Escalation(
        community="quiet-council", reason="For the council.", note="Draft a rule on triage bots."
    )
    service.escalate(session=session, actor=moderator, concern=concern, form=form)
    [escalated] = records(session, "concerns:concern:escalate")
    assert escalated["community_id"] == private.id
    assert escalated["data"] == {"aiid": False, "community": None}
    assert "quiet-council" not in json.dumps(records(session, "concerns:concern:status"))
    told = session.scalars(select(Notification).where(Notification.member_id == steward.id)).one()
    assert told.title == f"Concern #{concern.id} was escalated to {private.name}"


@pytest.mark.parametrize(
    ("format_", "code"), [("discussion", ErrorCode.VALIDATION_FAILED), (None, ErrorCode.COMMUNITY_NOT_FOUND)]
)
def test_escalating_only_goes_to_a_policy_community_that_exists(session, moderator, format_, code):
    if format_:
        policy_community(session, moderator, "chat-room", format=format_)
    concern = raise_one(session).concern
    go(session, moderator, concern, Status.TRIAGED)
    with pytest.raises(CommonsError) as refused:
        service.escalate(
            session=session, actor=moderator, concern=concern, form=Escalation(community="chat-room")
        )
    assert refused.value.code is code
    assert (concern.status, concern.escalated_at) == (Status.TRIAGED, None)


def test_a_responder_for_a_tool_answers_every_concern_about_it_and_no_other(session, moderator):
    rory = add_member(session, "rory")
    about = [
        raise_one(session, anonymous(str(n)), ai_tool=name).concern
        for n, name in enumerate(["TriageBot", "triagebot "])
    ]
    other = raise_one(session, anonymous("x"), ai_tool="GradeBot").concern
    form = ResponderCreate(handle="rory", organisation="TriageBot Health", ai_tool="Triagebot")
    service.name_responder(session=session, actor=moderator, form=form)
    for concern in about:
        posted = service.respond(
            session=session, actor=rory, concern=concern, form=ResponseCreate(body="We paused it.")
        )
        assert posted.organisation == "TriageBot Health"
    with pytest.raises(CommonsError) as refused:
        service.respond(session=session, actor=rory, concern=other, form=ResponseCreate(body="Not ours."))
    assert refused.value.code is ErrorCode.FORBIDDEN and other.responses == []
    assert len(records(session, "concerns:response:post")) == 2
    assert session.scalar(select(func.count()).select_from(Corroboration)) == 0
