"""The scoring library of problems: metrics against scikit-learn, bootstrap intervals, submission checks."""

import io
from pathlib import Path

import numpy as np
import pytest
from scipy import stats
from sklearn import metrics as sk

from aicommons.core.errors import CommonsError, ErrorCode
from aicommons.problems.scoring import (
    METRICS,
    Metric,
    Prediction,
    Task,
    confidence_interval,
    encode_labels,
    prediction_kind,
    public_private_split,
    score,
    spearman,
)
from aicommons.problems.submissions import read_predictions

RNG = np.random.default_rng(7)
ROWS = 400
CLASSES = ["cat", "dog", "eel"]


def _binary(rows=ROWS):
    truth = RNG.integers(0, 2, rows)
    probability = np.clip(0.35 * truth + 0.65 * RNG.random(rows), 0, 1).round(3)  # rounded: ties
    return truth, probability


def _multiclass(rows=ROWS):
    truth = RNG.integers(0, 3, rows)
    logits = RNG.normal(size=(rows, 3)) + 1.5 * np.eye(3)[truth]
    probabilities = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    return truth, probabilities


def _regression(rows=ROWS):
    truth = RNG.normal(10, 3, rows)
    return truth, truth + RNG.standard_t(4, rows)


def _cases():
    """(metric, truth, predictions, scikit-learn's score) for every metric, binary and multiclass."""
    binary, probability = _binary()
    multi, probabilities = _multiclass()
    y, estimate = _regression()
    for truth, labels in ((binary, (probability > 0.5).astype(np.int64)), (multi, probabilities.argmax(1))):
        yield Metric.ACCURACY, truth, labels, sk.accuracy_score(truth, labels)
        yield Metric.BALANCED_ACCURACY, truth, labels, sk.balanced_accuracy_score(truth, labels)
        yield Metric.F1_MACRO, truth, labels, sk.f1_score(truth, labels, average="macro")
    yield Metric.ROC_AUC, binary, probability, sk.roc_auc_score(binary, probability)
    yield Metric.LOG_LOSS, binary, probability, sk.log_loss(binary, probability)
    yield Metric.LOG_LOSS, multi, probabilities, sk.log_loss(multi, probabilities)
    yield Metric.RMSE, y, estimate, sk.root_mean_squared_error(y, estimate)
    yield Metric.MAE, y, estimate, sk.mean_absolute_error(y, estimate)
    yield Metric.R2, y, estimate, sk.r2_score(y, estimate)


CASES = list(_cases())
IDS = [
    f"{case[0]}-{case[2].ndim}d-{len(set(case[1].tolist())) if case[0] != Metric.RMSE else 'y'}"
    for case in CASES
]


@pytest.mark.parametrize(("metric", "truth", "predictions", "expected"), CASES, ids=IDS)
def test_each_metric_scores_as_scikit_learn(metric, truth, predictions, expected):
    assert score(metric, truth, predictions) == pytest.approx(expected, rel=1e-9)


def _naive_interval(metric, truth, predictions, resamples=2000):
    rng = np.random.default_rng(0)
    draws = (rng.integers(0, len(truth), len(truth)) for _ in range(resamples))
    scores = [score(metric, truth[rows], predictions[rows]) for rows in draws]
    return np.nanquantile(scores, [0.025, 0.975])


@pytest.mark.parametrize(("metric", "truth", "predictions", "expected"), CASES, ids=IDS)
def test_each_interval_holds_the_score_and_matches_a_naive_bootstrap(metric, truth, predictions, expected):
    low, high = confidence_interval(metric, truth, predictions, resamples=2000, seed=1)
    naive_low, naive_high = _naive_interval(metric, truth, predictions)
    width = naive_high - naive_low
    assert low < expected < high
    assert low == pytest.approx(naive_low, abs=0.1 * width)
    assert high == pytest.approx(naive_high, abs=0.1 * width)


def test_bucketed_intervals_on_many_rows_match_a_naive_bootstrap():
    """Past 2,048 buckets and 1,024 AUC bins the reduction approximates: within 15% of the width."""
    binary, probability = _binary(20_000)
    y, estimate = _regression(20_000)
    for metric, truth, predictions in (
        (Metric.ROC_AUC, binary, RNG.random(20_000) * 0.3 + 0.7 * probability),
        (Metric.R2, y, estimate),
        (Metric.RMSE, y, estimate),
    ):
        low, high = confidence_interval(metric, truth, predictions, resamples=1000, seed=3)
        naive_low, naive_high = _naive_interval(metric, truth, predictions, resamples=500)
        width = naive_high - naive_low
        assert abs(low - naive_low) < 0.15 * width and abs(high - naive_high) < 0.15 * width


def test_an_interval_is_the_same_for_the_same_seed():
    truth, probability = _binary()
    first = confidence_interval(Metric.ROC_AUC, truth, probability, seed=5)
    assert confidence_interval(Metric.ROC_AUC, truth, probability, seed=5) == first
    assert confidence_interval(Metric.ROC_AUC, truth, probability, seed=6) != first


def test_metrics_fit_their_tasks_and_know_their_direction():
    assert Metric.ROC_AUC not in METRICS[Task.MULTICLASS] and Metric.RMSE not in METRICS[Task.BINARY]
    assert prediction_kind(Task.MULTICLASS, Metric.LOG_LOSS) is Prediction.PROBABILITIES
    assert prediction_kind(Task.BINARY, Metric.LOG_LOSS) is Prediction.PROBABILITY
    assert [m for m in Metric if not m.higher_is_better] == [Metric.LOG_LOSS, Metric.RMSE, Metric.MAE]
    with pytest.raises(ValueError, match="does not score"):
        prediction_kind(Task.REGRESSION, Metric.ACCURACY)


# Submissions ---------------------------------------------------------------------------------------

TRUTH_IDS = ["a1", "a2", "a3", "a4"]


def _read(text, *, task=Task.BINARY, metric=Metric.ROC_AUC, classes=("no", "yes"), **options):
    return read_predictions(
        io.BytesIO(text.encode()),
        expected_ids=TRUTH_IDS,
        task=task,
        metric=metric,
        classes=list(classes),
        **options,
    )


def _problems(text, **options):
    with pytest.raises(CommonsError) as error:
        _read(text, **options)
    assert error.value.code is ErrorCode.BAD_SUBMISSION
    assert error.value.detail.endswith(".")
    return [(p["row"], p["column"], p["value"], p["issue"]) for p in error.value.extra["problems"]]


def test_a_good_submission_is_aligned_with_the_truth(tmp_path: Path):
    path = tmp_path / "submission.csv"
    path.write_text("id,prediction\na3, 0.3\na1,1\na4,.5e-1\na2,0\n")
    aligned = read_predictions(
        path, expected_ids=TRUTH_IDS, task=Task.BINARY, metric=Metric.ROC_AUC, classes=["no", "yes"]
    )
    assert aligned.tolist() == [1.0, 0.0, 0.3, 0.05]


def test_labels_come_back_as_codes_of_the_classes():
    aligned = _read("id,prediction\na1,yes\na2,no\na3,no\na4,yes\n", metric=Metric.ACCURACY)
    assert aligned.tolist() == [1, 0, 0, 1]
    assert aligned.tolist() == encode_labels(["yes", "no", "no", "yes"], ["no", "yes"]).tolist()


def test_multiclass_probabilities_are_one_column_a_class_normalised():
    text = "id,cat,dog,eel\na1,0.333,0.333,0.333\na2,1,0,0\na3,0,1,0\na4,0,0.5,0.5\n"
    aligned = _read(text, task=Task.MULTICLASS, metric=Metric.LOG_LOSS, classes=CLASSES)
    assert (
        aligned.shape == (4, 3) and np.allclose(aligned.sum(1), 1) and aligned[0, 0] == pytest.approx(1 / 3)
    )


def test_missing_and_extra_columns_are_named_on_the_header_line():
    assert _problems("key,prediction,notes\na1,0.5,x\n") == [
        (1, "id", "id", "missing column"),
        (1, "key", "key", "unexpected column"),
        (1, "notes", "notes", "unexpected column"),
    ]
    assert _problems("id\na1\n") == [(1, "prediction", "prediction", "missing column")]


def test_a_row_with_the_wrong_number_of_cells_is_named_by_its_line():
    assert _problems("id,prediction\na1,0.5\na2,0.5,9\na3,0.5\na4,1\n") == [
        (3, "*", "a2,0.5,9", "3 cells where the header has 2")
    ]


def test_duplicate_missing_and_unknown_ids_are_named():
    problems = _problems("id,prediction\na1,0.5\na2,0.5\na1,0.7\nzz,0.1\n,0.2\n")
    assert problems == [
        (4, "id", "a1", "duplicate id"),
        (5, "id", "zz", "unknown id"),
        (6, "id", "", "empty id"),
        (None, "id", "a3", "missing id"),
        (None, "id", "a4", "missing id"),
    ]


@pytest.mark.parametrize(
    ("cell", "issue"),
    [
        ("NaN", "NaN or infinity"),
        ("inf", "NaN or infinity"),
        ("-Infinity", "NaN or infinity"),
        ("abc", "not a number"),
        ("", "empty cell"),
        ("1e999", "probability outside [0, 1]"),
        ("1.5", "probability outside [0, 1]"),
        ("-0.1", "probability outside [0, 1]"),
    ],
)
def test_a_bad_probability_is_named_by_line_and_column(cell, issue):
    assert _problems(f"id,prediction\na1,0.5\na2,0.5\na3,{cell}\na4,1\n") == [(4, "prediction", cell, issue)]


def test_a_number_that_is_not_finite_is_refused_for_regression():
    assert _problems(
        "id,prediction\na1,1e999\na2,5\na3,-3.5\na4,x1\n", task=Task.REGRESSION, metric=Metric.RMSE
    ) == [
        (2, "prediction", "1e999", "not a finite number"),
        (5, "prediction", "x1", "not a number"),
    ]


def test_an_unknown_label_is_named():
    problems = _problems("id,prediction\na1,yes\na2,maybe\na3,no\na4,Yes\n", metric=Metric.F1_MACRO)
    assert [(row, value) for row, _, value, _ in problems] == [(3, "maybe"), (5, "Yes")]
    assert problems[0][3] == "not one of the classes ['no', 'yes']"


def test_multiclass_probabilities_that_do_not_sum_to_one_are_named():
    text = "id,cat,dog,eel\na1,0.5,0.5,0.5\na2,1,0,0\na3,0,1,2\na4,0,0.5,0.5\n"
    problems = _problems(text, task=Task.MULTICLASS, metric=Metric.LOG_LOSS, classes=CLASSES)
    assert problems == [
        (2, "cat, dog, eel", "1.5", "the probabilities do not sum to 1"),
        (4, "eel", "2", "probability outside [0, 1]"),
    ]


def test_only_the_first_twenty_problems_are_listed_and_all_are_counted():
    ids = [f"x{n}" for n in range(50)]
    text = "id,prediction\n" + "".join(f"{i},oops\n" for i in ids)
    with pytest.raises(CommonsError) as error:
        read_predictions(io.BytesIO(text.encode()), expected_ids=ids, task=Task.REGRESSION, metric=Metric.MAE)
    assert (
        error.value.detail
        == "The submission has 50 problems, the first at line 2, column 'prediction': not a number."
    )
    assert [p["row"] for p in error.value.extra["problems"]] == list(range(2, 22))


@pytest.mark.parametrize(
    ("text", "sentence"),
    [
        ("", "The submission is empty."),
        ("  \n", "The submission is empty."),
        ("id,prediction\n", "The submission has a header but no rows."),
    ],
)
def test_an_empty_submission_is_refused(text, sentence):
    with pytest.raises(CommonsError) as error:
        _read(text)
    assert error.value.code is ErrorCode.BAD_SUBMISSION and error.value.detail == sentence


def test_an_oversize_submission_is_refused_before_it_is_read(tmp_path: Path):
    path = tmp_path / "big.csv"
    path.write_text("id,prediction\n" + "a1,0.5\n" * 100)
    for source in (path, io.BytesIO(path.read_bytes())):
        with pytest.raises(CommonsError) as error:
            read_predictions(
                source, expected_ids=TRUTH_IDS, task=Task.REGRESSION, metric=Metric.MAE, max_bytes=500
            )
        assert error.value.detail == "The submission is larger than the limit of 500 bytes."


# The split and the rank correlation ----------------------------------------------------------------


def test_the_split_is_deterministic_order_independent_and_sized():
    ids = [f"row-{n}" for n in range(1000)]
    public = public_private_split(ids, seed=42)
    assert public.sum() == 300
    assert public_private_split(ids, seed=42).tolist() == public.tolist()
    shuffled = list(RNG.permutation(ids))
    again = dict(zip(shuffled, public_private_split(shuffled, seed=42), strict=True))
    assert [again[i] for i in ids] == public.tolist()
    assert public_private_split(ids, seed=43).tolist() != public.tolist()
    assert public_private_split(ids, public_fraction=0.5, seed=1).sum() == 500


def test_spearman_handles_ties_as_scipy():
    a, b = [1, 2, 2, 4, 5, 5, 7], [2, 1, 3, 3, 6, 5, 5]
    assert spearman(a, b) == pytest.approx(stats.spearmanr(a, b).statistic)
    assert spearman([1, 2, 3], [3, 2, 1]) == pytest.approx(-1)
    assert np.isnan(spearman([1, 1, 1], [1, 2, 3]))
