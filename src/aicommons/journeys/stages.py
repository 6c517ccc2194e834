"""The rules of a journey: which stage a member has reached in a community at a given moment, and what
the next stage needs (docs/decisions/0034-…)."""

from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property

from aicommons.communities.models import Role
from aicommons.journeys.activity import WINDOW, Activity
from aicommons.journeys.models import Stage

PARTICIPATING_CONTRIBUTIONS = 3  # within WINDOW (90 days)
PARTICIPATING_RANK = Stage.PARTICIPATING.rank


@dataclass(frozen=True)
class Footprint:
    """What one member did in one community, as the stages need it; `recent` holds their contributions
    in the 90 days up to each moment asked about."""

    member_id: int
    community_id: int
    seen_at: datetime | None
    joined_at: datetime | None
    contributed_at: datetime | None
    networked_at: datetime | None
    leading_since: datetime | None
    recent: tuple[int, ...]

    @cached_property
    def milestones(self) -> tuple[tuple[Stage, datetime], ...]:
        """When each stage other than participating was reached, the highest first."""
        reached = (
            (Stage.LEADING, self.leading_since),
            (Stage.NETWORKED, self.networked_at),
            (Stage.CONTRIBUTED, self.contributed_at),
            (Stage.JOINED, self.joined_at),
            (Stage.DISCOVERED, self.seen_at),
        )
        # In UTC's own tzinfo, as the moments asked about are: comparing is then ten times faster.
        return tuple((stage, moment.astimezone(UTC)) for stage, moment in reached if moment is not None)

    def stage(self, at: datetime, recent: int) -> Stage | None:
        """The highest stage reached at `at`, given `recent` contributions in the 90 days before it."""
        highest = next((stage for stage, moment in self.milestones if moment <= at), None)
        if recent >= PARTICIPATING_CONTRIBUTIONS and (highest is None or highest.rank < PARTICIPATING_RANK):
            return Stage.PARTICIPATING
        return highest

    def stages(self, moments: list[datetime]) -> list[Stage | None]:
        return [self.stage(at, recent) for at, recent in zip(moments, self.recent, strict=True)]


def _earliest(*moments: datetime | None) -> datetime | None:
    return min((moment for moment in moments if moment is not None), default=None)


@dataclass(frozen=True)
class Membership:
    """The member's active membership: since when, and since when they lead (steward or organizer)."""

    joined_at: datetime
    leading_since: datetime | None


def footprint(
    *,
    member_id: int,
    community_id: int,
    moments: int,
    activity: Activity | None,
    visited_at: datetime | None,
    membership: Membership | None,
    elsewhere_at: datetime | None,
) -> Footprint:
    """A footprint from what the log, the private visits and the membership rows say of the member."""
    logged = activity or Activity(member_id, community_id, None, None, None, (0,) * moments)
    contributed_at, recent = logged.contributed_at, logged.recent
    joined_at = _earliest(logged.joined_at, membership.joined_at if membership else None)
    leading_since = membership.leading_since if membership else None
    networked_at = max(contributed_at, elsewhere_at) if contributed_at and elsewhere_at else None
    seen_at = _earliest(visited_at, logged.seen_at, joined_at, leading_since)
    return Footprint(
        member_id, community_id, seen_at, joined_at, contributed_at, networked_at, leading_since, recent
    )


def next_step(stage: Stage | None, recent: int) -> str:
    """What the member can do to reach the next stage; `recent` counts their last 90 days' contributions."""
    if stage is Stage.CONTRIBUTED:
        missing = PARTICIPATING_CONTRIBUTIONS - recent
        return (
            f"{missing} more contribution{'s' if missing != 1 else ''} within {WINDOW.days} days "
            "make you participating."
        )
    return NEXT_STEPS[stage]


NEXT_STEPS: dict[Stage | None, str] = {
    None: "Visit and join the community to start your journey here.",
    Stage.DISCOVERED: "Join the community to take part.",
    Stage.JOINED: (
        "Contribute: publish an insight or reply to one, RSVP to an event, publish a dataset "
        "or submit to a problem."
    ),
    Stage.PARTICIPATING: "Contribute in another community too, and you are networked.",
    Stage.NETWORKED: f"Stewards and organizers lead: ask a {Role.STEWARD.value} about organizing.",
    Stage.LEADING: "You lead this community: the furthest a journey goes.",
}

MEANINGS = {
    Stage.DISCOVERED: "looked at the community",
    Stage.JOINED: "became a member",
    Stage.CONTRIBUTED: "made a first contribution",
    Stage.PARTICIPATING: f"{PARTICIPATING_CONTRIBUTIONS}+ contributions in the last {WINDOW.days} days",
    Stage.NETWORKED: "contributed here and in another community",
    Stage.LEADING: "steward or organizer",
}
