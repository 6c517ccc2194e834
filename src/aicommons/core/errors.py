"""The error catalog: every code a client can meet, its HTTP status and its title (RFC 9457)."""

from enum import Enum
from typing import Any


class ErrorCode(Enum):
    """A stable, machine-readable error code. The value is (code, HTTP status, title)."""

    VALIDATION_FAILED = ("validation_failed", 422, "The request is not valid")
    NOT_AUTHENTICATED = ("not_authenticated", 401, "Authentication is required")
    INVALID_CREDENTIALS = ("invalid_credentials", 401, "Handle or password is wrong")
    TOO_MANY_ATTEMPTS = ("too_many_attempts", 429, "Too many failed logins; wait and try again")
    INVALID_TOKEN = ("invalid_token", 401, "The API token is unknown, revoked or expired")
    FORBIDDEN = ("forbidden", 403, "You may not do this")
    CSRF_FAILED = ("csrf_failed", 403, "The form's CSRF token is missing or wrong")
    NOT_FOUND = ("not_found", 404, "No such resource")
    METHOD_NOT_ALLOWED = ("method_not_allowed", 405, "This resource does not take that method")
    MEMBER_NOT_FOUND = ("member_not_found", 404, "No such member")
    HANDLE_TAKEN = ("handle_taken", 409, "That handle is taken")
    EMAIL_TAKEN = ("email_taken", 409, "That email address is already registered")
    TOKEN_NOT_FOUND = ("token_not_found", 404, "No such API token")
    COMMUNITY_NOT_FOUND = ("community_not_found", 404, "No such community")
    SLUG_TAKEN = ("slug_taken", 409, "That community slug is taken")
    COMMUNITY_ARCHIVED = ("community_archived", 409, "The community is archived")
    COMMUNITY_CLOSED = ("community_closed", 403, "The community takes members by invitation only")
    ALREADY_MEMBER = ("already_member", 409, "Already a member or already asked to join")
    NOT_MEMBER = ("not_member", 409, "Not a member of this community")
    LAST_STEWARD = ("last_steward", 409, "A community keeps at least one steward")
    REQUEST_NOT_FOUND = ("request_not_found", 404, "No such pending request or invitation")
    JOB_NOT_FOUND = ("job_not_found", 404, "No such job")
    LOG_ENTRY_NOT_FOUND = ("log_entry_not_found", 404, "No such log entry")
    BAD_TREE_SIZE = ("bad_tree_size", 422, "That tree size is not one the log has signed")
    TILE_NOT_FOUND = ("tile_not_found", 404, "No such tile")
    INSUFFICIENT_FUNDS = ("insufficient_funds", 409, "Not enough tokens in the account")
    IDEMPOTENCY_CONFLICT = ("idempotency_conflict", 409, "That idempotency key was used for another transfer")
    PAYLOAD_TOO_LARGE = ("payload_too_large", 413, "The request body is too large")
    DATASET_NOT_FOUND = ("dataset_not_found", 404, "No such dataset")
    VERSION_NOT_FOUND = ("version_not_found", 404, "No such version of this dataset")
    VERSION_WITHDRAWN = ("version_withdrawn", 410, "That version was withdrawn by its owner")
    UNSUPPORTED_FORMAT = ("unsupported_format", 415, "Datasets are uploaded as CSV or Parquet")
    BAD_DATA = ("bad_data", 422, "The file is not clean tabular data")
    EMPTY_DATA = ("empty_data", 422, "The file holds no rows")
    UNKNOWN_LICENSE = ("unknown_license", 422, "That is not an SPDX license identifier")
    ACCESS_REQUIRED = ("access_required", 403, "Request access or buy a license to download this dataset")
    FEDERATED_ONLY = ("federated_only", 409, "The rows of a federated dataset never reach the commons")
    WRONG_POLICY = ("wrong_policy", 409, "The dataset's access policy does not work that way")
    ALREADY_REQUESTED = ("already_requested", 409, "You already asked for access to this dataset")
    ALREADY_GRANTED = ("already_granted", 409, "You already have access to this dataset")
    ACCESS_REQUEST_NOT_FOUND = ("access_request_not_found", 404, "No such access request")
    ALREADY_DECIDED = ("already_decided", 409, "That request was already decided")
    DATASET_PUBLISHED = ("dataset_published", 409, "A dataset with versions cannot be removed")
    BAD_SUBMISSION = ("bad_submission", 422, "The submission file does not match the problem")
    PROBLEM_NOT_FOUND = ("problem_not_found", 404, "No such problem")
    PROBLEM_NOT_DRAFT = ("problem_not_draft", 409, "The problem is already published")
    PROBLEM_CLOSED = ("problem_closed", 409, "The problem does not take submissions now")
    PROBLEM_STILL_OPEN = ("problem_still_open", 409, "The problem closes at its closing time, not before")
    SUBMISSION_LIMIT = ("submission_limit", 429, "The team has used up its submissions")
    SUBMISSION_NOT_FOUND = ("submission_not_found", 404, "No such submission of your team")
    TEAM_FULL = ("team_full", 409, "The team has as many members as the problem allows")
    ALREADY_IN_TEAM = ("already_in_team", 409, "The member competes in another team of the problem")
    TEAM_NOT_FOUND = ("team_not_found", 404, "No such team on this problem")
    TEAM_CONSENT_REQUIRED = (
        "team_consent_required",
        403,
        "Joining a team takes an invitation from one of its members, or their approval",
    )
    NODE_EXISTS = ("node_exists", 409, "The dataset already has a node of that name")
    NODE_NOT_FOUND = ("node_not_found", 404, "No such node")
    NODE_ROWS_TAKEN = ("node_rows_taken", 409, "These rows already back another node")
    NOT_FEDERABLE = ("not_federable", 409, "The problem cannot be trained on federatedly as it stands")
    NOT_ENOUGH_NODES = ("not_enough_nodes", 409, "Too few of the problem's nodes accept this run")
    PRIVACY_BUDGET_EXCEEDED = (
        "privacy_budget_exceeded",
        409,
        "The run would spend more privacy on a chosen node than its policy allows",
    )
    RUN_NOT_FOUND = ("run_not_found", 404, "No such training run")
    MODEL_NOT_FOUND = ("model_not_found", 404, "No such model")
    SUPERLINK_REFUSED = ("superlink_refused", 502, "The Flower SuperLink did not admit the node")
    RATE_LIMITED = ("rate_limited", 429, "Too many requests; wait a little and try again")
    # insights
    INSIGHT_NOT_FOUND = ("insight_not_found", 404, "No such insight")
    NOT_A_QUESTION = ("not_a_question", 409, "Only a question has an accepted answer")
    REPLY_NOT_FOUND = ("reply_not_found", 404, "No such reply to this insight")
    ALREADY_REUSED = ("already_reused", 409, "The community already recorded reusing this insight")
    SUBSCRIPTION_NOT_FOUND = ("subscription_not_found", 404, "No such subscription")
    OWN_INSIGHT = ("own_insight", 409, "A community cannot record reusing its own insight")
    # concerns
    CONCERN_NOT_FOUND = ("concern_not_found", 404, "No such concern")
    BAD_TRANSITION = ("bad_transition", 409, "The concern cannot move to that status from its current one")
    ALREADY_CORROBORATED = ("already_corroborated", 409, "You already said you have seen this too")
    NOT_ESCALATED = ("not_escalated", 409, "The concern was not escalated to the AI Incident Database")
    # events
    EVENT_NOT_FOUND = ("event_not_found", 404, "No such event")
    EVENT_OVER = ("event_over", 409, "The event is over")
    EVENT_CANCELLED = ("event_cancelled", 409, "The event is cancelled")
    EVENT_NOT_OVER = ("event_not_over", 409, "The event has not ended yet")
    # governance
    PROPOSAL_NOT_FOUND = ("proposal_not_found", 404, "No such proposal")
    PROPOSAL_STATE = ("proposal_state", 409, "The proposal is not in a state that allows this")
    VOTING_CLOSED = ("voting_closed", 409, "Voting on this proposal is not open")
    NO_VOTING_POWER = ("no_voting_power", 403, "You have no voting power on this proposal")
    INVALID_CHOICE = ("invalid_choice", 422, "That is not a valid choice for this proposal")
    BELOW_THRESHOLD = ("below_threshold", 403, "You hold fewer tokens than the proposal threshold")
    TIMELOCK_PENDING = ("timelock_pending", 409, "The proposal's timelock has not passed yet")
    ALREADY_EXECUTED = ("already_executed", 409, "The proposal was already executed")
    DATASET_ADMITTED = ("dataset_admitted", 409, "The dataset is already admitted to the commons")
    # journeys

    @property
    def code(self) -> str:
        return self.value[0]

    @property
    def status(self) -> int:
        return self.value[1]

    @property
    def title(self) -> str:
        return self.value[2]


class CommonsError(Exception):
    """A failure a client caused or may see; services raise it, the edges render it."""

    def __init__(self, code: ErrorCode, detail: str | None = None, **extra: Any) -> None:
        super().__init__(detail or code.title)
        self.code = code
        self.detail = detail or code.title
        self.extra = extra

    def problem(self, instance: str) -> dict[str, Any]:
        """The RFC 9457 problem document for this error."""
        return {
            "type": f"/docs/errors#{self.code.code}",
            "title": self.code.title,
            "status": self.code.status,
            "detail": self.detail,
            "instance": instance,
            "code": self.code.code,
            **self.extra,
        }
