"""Each voting method against tallies computed by hand, and the choices each method refuses."""

import pytest

from aicommons.core.errors import CommonsError, ErrorCode
from aicommons.governance.models import Method
from aicommons.governance.tally import count, labels, parse_choice, power


def test_voting_power_is_one_the_tokens_or_their_integer_square_root():
    assert [power(Method.ONE_MEMBER, tokens) for tokens in (0, 7, 400)] == [1, 1, 1]
    assert [power(Method.TOKEN, tokens) for tokens in (0, 7, 400)] == [0, 7, 400]
    assert [power(Method.QUADRATIC, tokens) for tokens in (0, 1, 3, 4, 99, 100, 400)] == [
        0,
        1,
        1,
        2,
        9,
        10,
        20,
    ]
    assert [power(Method.APPROVAL, 50), power(Method.RANKED, 50)] == [1, 1]


def test_one_member_one_vote_by_hand():
    # 3 for, 2 against, 1 abstains; quorum 6 of participation 6: reached, and 3 > 2.
    ballots = [("for", 1)] * 3 + [("against", 1)] * 2 + [("abstain", 1)]
    tally = count(Method.ONE_MEMBER, 0, ballots, quorum=6)
    assert (tally.counts, tally.voters, tally.participation) == ([3, 2, 1], 6, 6)
    assert (tally.quorum_reached, tally.winner, tally.passed) == (True, 0, True)


def test_abstentions_count_toward_quorum_but_do_not_carry_a_vote():
    reached = count(Method.ONE_MEMBER, 0, [("for", 1), ("abstain", 1), ("abstain", 1)], quorum=3)
    assert (reached.quorum_reached, reached.passed) == (True, True)
    short = count(Method.ONE_MEMBER, 0, [("for", 1), ("abstain", 1)], quorum=3)
    assert (short.quorum_reached, short.passed) == (False, False)
    tied = count(Method.ONE_MEMBER, 0, [("for", 1), ("against", 1), ("abstain", 1)], quorum=1)
    assert (tied.winner, tied.passed) == (None, False)


def test_token_weighted_by_hand():
    # alice 100 for, bob 400 against, carol 9 for: 109 for, 400 against.
    tally = count(Method.TOKEN, 0, [("for", 100), ("against", 400), ("for", 9)], quorum=255)
    assert (tally.counts, tally.participation, tally.quorum_reached, tally.passed) == (
        [109, 400, 0],
        509,
        True,
        False,
    )


def test_quadratic_by_hand():
    # The same holdings as square roots: 10 + 3 for, 20 against: against still wins, by less.
    ballots = [("for", power(Method.QUADRATIC, 100)), ("against", power(Method.QUADRATIC, 400))]
    ballots.append(("for", power(Method.QUADRATIC, 9)))
    tally = count(Method.QUADRATIC, 0, ballots, quorum=1)
    assert (tally.counts, tally.passed) == ([13, 20, 0], False)
    many_small = [("for", power(Method.QUADRATIC, 25))] * 5  # five members with 25 tokens each: 5 times 5
    assert count(Method.QUADRATIC, 0, [*many_small, ("against", 20)], quorum=1).counts == [25, 20, 0]


def test_approval_by_hand():
    # options A, B, C: {A, B}, {B}, {B, C}, {} (abstains): A 1, B 3, C 1.
    ballots = [([0, 1], 1), ([1], 1), ([1, 2], 1), ([], 1)]
    tally = count(Method.APPROVAL, 3, ballots, quorum=4)
    assert (tally.counts, tally.participation, tally.winner, tally.passed) == ([1, 3, 1, 1], 4, 1, True)


def test_approval_with_a_tie_at_the_top_has_no_winner():
    tally = count(Method.APPROVAL, 2, [([0], 1), ([1], 1)], quorum=1)
    assert (tally.counts, tally.winner, tally.passed) == ([1, 1, 0], None, False)


def test_ranked_choice_runs_off_by_hand():
    # 9 ballots over A, B, C. First preferences A 4, B 3, C 2: no majority of 9; C is eliminated and its
    # two ballots go to their next choice, B: A 4, B 5 of 9, so B wins in round 2.
    ballots = [([0], 1)] * 4 + [([1, 0], 1)] * 3 + [([2, 1], 1)] * 2
    tally = count(Method.RANKED, 3, ballots, quorum=5)
    assert tally.rounds == [[4, 3, 2], [4, 5, 0]]
    assert (tally.winner, tally.counts, tally.passed) == (1, [4, 5, 0, 0], True)


def test_ranked_choice_drops_exhausted_ballots_and_eliminates_the_last_listed_of_equals():
    # A 2, B 1, C 1 (C ranks nothing else): of B and C, C (listed last) goes; its ballot is exhausted,
    # leaving A 2 of 3 counting: A wins.
    ballots = [([0], 1), ([0, 1], 1), ([1, 2], 1), ([2], 1), ([], 1)]
    tally = count(Method.RANKED, 3, ballots, quorum=1)
    assert tally.rounds == [[2, 1, 1], [2, 1, 0]]
    assert (tally.winner, tally.counts[-1], tally.participation) == (0, 1, 5)


def test_ranked_choice_with_every_option_tied_has_no_winner():
    tally = count(Method.RANKED, 2, [([0, 1], 1), ([1, 0], 1)], quorum=1)
    assert (tally.rounds, tally.winner, tally.passed) == ([[1, 1]], None, False)


def test_a_tally_document_holds_integers_and_names_its_labels():
    tally = count(Method.ONE_MEMBER, 0, [("for", 1)], quorum=1)
    assert tally.document() == {
        "method": "one_member",
        "voters": 1,
        "participation": 1,
        "quorum": 1,
        "quorum_reached": True,
        "counts": [1, 0, 0],
        "rounds": [],
        "winner": 0,
        "passed": True,
    }
    assert labels(Method.TOKEN, []) == ["for", "against", "abstain"]
    assert labels(Method.RANKED, ["A", "B"]) == ["A", "B", "abstain"]


def test_a_hundred_thousand_ranked_ballots_are_counted_by_grouping_equal_rankings():
    ballots = [([0, 1, 2], 1)] * 40_000 + [([1, 2], 1)] * 35_000 + [([2, 1], 1)] * 25_000
    tally = count(Method.RANKED, 3, ballots, quorum=1)
    assert tally.rounds[-1] == [40_000, 60_000, 0] and tally.winner == 1


@pytest.mark.parametrize(
    ("method", "choice"),
    [
        (Method.ONE_MEMBER, "yes"),
        (Method.TOKEN, ["for"]),
        (Method.QUADRATIC, None),
        (Method.APPROVAL, "for"),
        (Method.APPROVAL, [3]),
        (Method.APPROVAL, [-1]),
        (Method.APPROVAL, [0, 0]),
        (Method.APPROVAL, [True]),
        (Method.RANKED, ["0"]),
        (Method.RANKED, [1, 1]),
        (Method.RANKED, [0.5]),
    ],
)
def test_choices_that_do_not_fit_the_method_are_refused(method, choice):
    with pytest.raises(CommonsError) as refused:
        parse_choice(method, 3, choice)
    assert refused.value.code is ErrorCode.INVALID_CHOICE


def test_choices_are_kept_in_canonical_form():
    assert parse_choice(Method.APPROVAL, 3, [2, 0]) == [0, 2]
    assert parse_choice(Method.RANKED, 3, [2, 0]) == [2, 0]
    assert parse_choice(Method.RANKED, 3, []) == []
    assert parse_choice(Method.TOKEN, 0, "abstain") == "abstain"
