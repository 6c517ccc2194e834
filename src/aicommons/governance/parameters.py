"""The governable parameters of the commons: each declared with its unit and allowed range, so that a
parameter-change proposal is checked when it is made and again when it executes."""

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from aicommons.communities import rewards as community_rewards
from aicommons.core.errors import CommonsError, ErrorCode
from aicommons.federation.service import DEFAULT_ROUND_REWARD, ROUND_REWARD
from aicommons.ledger import tokens
from aicommons.members import service as members
from aicommons.problems import service as problems

VOTING_DELAY = "governance:voting-delay"
VOTING_PERIOD = "governance:voting-period"
TIMELOCK = "governance:timelock"
GRACE_PERIOD = "governance:grace-period"
LATE_QUORUM_EXTENSION = "governance:late-quorum-extension"
QUORUM_PERCENT = "governance:quorum-percent"
PROPOSAL_THRESHOLD = "governance:proposal-threshold"
DAY = 24 * 60  # minutes


@dataclass(frozen=True)
class Governable:
    """A number the members may change by vote, within [minimum, maximum]."""

    name: str
    label: str
    unit: str  # tokens, percent, submissions, entries, members, rewards or minutes
    minimum: int
    maximum: int
    default: int
    group: str

    def describe(self, value: int) -> str:
        return f"{value:,} {self.unit}"


def _group(group: str, unit: str) -> Callable[..., Governable]:
    """A declarer of the parameters of `group` in `unit`: name, label, (minimum, maximum), default."""

    def declare(name: str, label: str, span: tuple[int, int], default: int) -> Governable:
        return Governable(name, label, unit, span[0], span[1], default, group)

    return declare


_reward = _group("Reward policy", "tokens")
_problem_limit = _group("New problems", "submissions")
_minutes = _group("Governance", "minutes")
_default = {field: default for field, (_, default) in problems.COMMONS_DEFAULTS.items()}
DECLARED = (
    _reward(
        tokens.REWARD_PREFIX + "communities:community:create",
        "Reward for creating a community",
        (0, 10_000),
        0,
    ),
    _reward(
        tokens.REWARD_PREFIX + "communities:community:register",
        "Reward for registering a team",
        (0, 10_000),
        0,
    ),
    _reward(
        tokens.REWARD_PREFIX + ROUND_REWARD,
        "Reward of a federated training round",
        (0, 10**6),
        DEFAULT_ROUND_REWARD,
    ),
    _reward(tokens.INTERVAL_AMOUNT, "Tokens minted to the treasury each interval", (0, 10_000), 0),
    _group("Fair play", "members")(
        community_rewards.REWARD_MEMBERS,
        "Established members a community needs before its creation or registration reward",
        (1, 1000),
        community_rewards.DEFAULTS[community_rewards.REWARD_MEMBERS],
    ),
    _group("Fair play", "rewards")(
        community_rewards.REWARDS_PER_PERIOD,
        "Creation (and registration) rewards one member earns in a reward period",
        (0, 100),
        community_rewards.DEFAULTS[community_rewards.REWARDS_PER_PERIOD],
    ),
    _group("Fair play", "minutes")(
        community_rewards.REWARD_PERIOD,
        "Reward period of community rewards",
        (60, 365 * DAY),
        community_rewards.DEFAULTS[community_rewards.REWARD_PERIOD],
    ),
    _group("Fair play", "minutes")(
        members.ESTABLISHED_AGE,
        "Age of an account before its flags hide a concern and its memberships earn rewards",
        (0, 90 * DAY),
        members.DEFAULT_ESTABLISHED_AGE,
    ),
    _group("Reward policy", "entries")(
        tokens.INTERVAL_ENTRIES, "Log entries in a reward interval (0: none)", (0, 10**6), 0
    ),
    _group("New problems", "percent")(
        problems.DIVIDEND_PERCENT, "Data-dividend share of a bounty", (0, 100), _default["dividend_percent"]
    ),
    _problem_limit(
        problems.DAILY_LIMIT, "Submissions a team makes in a day", (1, 1000), _default["daily_limit"]
    ),
    _problem_limit(
        problems.TOTAL_LIMIT, "Submissions a team makes in all", (1, 100_000), _default["total_limit"]
    ),
    _minutes(VOTING_DELAY, "Voting delay", (0, 30 * DAY), DAY),
    _minutes(VOTING_PERIOD, "Voting period", (60, 30 * DAY), 3 * DAY),
    _minutes(TIMELOCK, "Timelock before execution", (0, 30 * DAY), DAY),
    _minutes(GRACE_PERIOD, "Grace period to execute", (60, 90 * DAY), 14 * DAY),
    _minutes(LATE_QUORUM_EXTENSION, "Extension when quorum comes late", (0, 7 * DAY), DAY // 2),
    _group("Governance", "percent")(QUORUM_PERCENT, "Quorum", (1, 100), 10),
    _group("Governance", "tokens")(PROPOSAL_THRESHOLD, "Proposal threshold", (0, 10**6), 10),
)
GOVERNABLE = {parameter.name: parameter for parameter in DECLARED}
RULES = {  # what a proposal keeps of the governance parameters when it is submitted, by short name
    "voting_delay": VOTING_DELAY,
    "voting_period": VOTING_PERIOD,
    "timelock": TIMELOCK,
    "grace_period": GRACE_PERIOD,
    "late_quorum_extension": LATE_QUORUM_EXTENSION,
    "quorum_percent": QUORUM_PERCENT,
}


def declared(name: str) -> Governable:
    found = GOVERNABLE.get(name)
    if found is None:
        raise CommonsError(ErrorCode.VALIDATION_FAILED, f"{name!r} is not a governable parameter")
    return found


def check(name: str, value: int) -> Governable:
    """The parameter, if `value` is in its allowed range."""
    parameter = declared(name)
    if not parameter.minimum <= value <= parameter.maximum:
        raise CommonsError(
            ErrorCode.VALIDATION_FAILED,
            f"{parameter.label} is between {parameter.minimum:,} and {parameter.maximum:,} {parameter.unit}",
        )
    return parameter


def value(session: Session, name: str) -> int:
    return tokens.parameter(session, name, declared(name).default)


def set_value(session: Session, name: str, new: int) -> int:
    """Set a parameter (checked against its range); returns the value it had."""
    check(name, new)
    old = value(session, name)
    tokens.set_parameter(session, name, new)
    return old


def current(session: Session) -> list[tuple[Governable, int]]:
    return [(parameter, value(session, parameter.name)) for parameter in DECLARED]


def rules(session: Session) -> dict[str, int]:
    return {short: value(session, name) for short, name in RULES.items()}
