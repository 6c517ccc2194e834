"""The model families of federated runs, trained on sklearn's bundled datasets, and the partitions."""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits
from sklearn.model_selection import train_test_split

from aicommons.federation import partitions
from aicommons.federation.learning import (
    Architecture,
    Family,
    Training,
    check_weights,
    example_gradient_norms,
    gradients,
    initial_weights,
    loss,
    predict,
    train,
    weight_shapes,
)


@dataclass(frozen=True)
class Split:
    """Standardised (with the training rows' statistics) train and test rows of a dataset."""

    train_features: np.ndarray
    train_labels: np.ndarray
    test_features: np.ndarray
    test_labels: np.ndarray

    @property
    def features(self) -> int:
        return self.train_features.shape[1]


def split(loader: Callable[..., tuple[np.ndarray, np.ndarray]], *, classes: bool) -> Split:
    features, labels = loader(return_X_y=True)
    stratify = labels if classes else None
    x_train, x_test, y_train, y_test = train_test_split(
        features, labels, test_size=0.25, random_state=0, stratify=stratify
    )
    mean, spread = x_train.mean(axis=0), x_train.std(axis=0)
    spread[spread == 0] = 1.0  # digits has pixels that are always blank
    return Split((x_train - mean) / spread, y_train, (x_test - mean) / spread, y_test)


@pytest.fixture(scope="module")
def cancer() -> Split:
    return split(load_breast_cancer, classes=True)


@pytest.fixture(scope="module")
def digits() -> Split:
    return split(load_digits, classes=True)


@pytest.fixture(scope="module")
def diabetes() -> Split:
    return split(load_diabetes, classes=False)


def accuracy(architecture: Architecture, weights: list[np.ndarray], data: Split) -> float:
    predicted = predict(architecture, weights, data.test_features).argmax(axis=1)
    return float((predicted == data.test_labels).mean())


def fit(architecture: Architecture, data: Split, training: Training, *, seed: int = 0) -> list[np.ndarray]:
    start = initial_weights(architecture, seed=seed)
    return train(architecture, start, data.train_features, data.train_labels, training=training, seed=seed)


def distance(left: list[np.ndarray], right: list[np.ndarray]) -> float:
    return float(np.sqrt(sum(((a - b) ** 2).sum() for a, b in zip(left, right, strict=True))))


def flat(arrays: list[np.ndarray]) -> np.ndarray:
    return np.concatenate([array.ravel() for array in arrays])


# --- central training reaches sensible accuracy ---------------------------------------------------


@pytest.mark.parametrize("family", [Family.LOGISTIC, Family.MLP])
def test_breast_cancer_is_learned_by_the_classifiers(family: Family, cancer: Split) -> None:
    architecture = Architecture(family=family, features=cancer.features, outputs=2)
    weights = fit(architecture, cancer, Training(epochs=5))
    assert accuracy(architecture, weights, cancer) >= 0.93


@pytest.mark.parametrize("family", [Family.LOGISTIC, Family.MLP])
def test_digits_are_learned_by_the_classifiers(family: Family, digits: Split) -> None:
    architecture = Architecture(family=family, features=digits.features, outputs=10)
    weights = fit(architecture, digits, Training(epochs=10))
    assert accuracy(architecture, weights, digits) >= 0.93


def test_linear_regression_nears_least_squares_on_diabetes(diabetes: Split) -> None:
    architecture = Architecture(family=Family.LINEAR, features=diabetes.features, outputs=1)
    start = initial_weights(architecture, seed=0)
    weights = fit(architecture, diabetes, Training(epochs=20))
    design = np.column_stack([diabetes.train_features, np.ones(len(diabetes.train_features))])
    solution = np.linalg.lstsq(design, diabetes.train_labels, rcond=None)[0]
    best = [solution[:-1, None], solution[-1:]]
    before, after = (
        loss(architecture, w, diabetes.test_features, diabetes.test_labels) for w in (start, weights)
    )
    assert after < 0.15 * before
    assert after < 1.05 * loss(architecture, best, diabetes.test_features, diabetes.test_labels)


def test_the_mlp_regresses_standardised_targets(diabetes: Split) -> None:
    mean, spread = diabetes.train_labels.mean(), diabetes.train_labels.std()
    targets, test_targets = (diabetes.train_labels - mean) / spread, (diabetes.test_labels - mean) / spread
    architecture = Architecture(family=Family.MLP, features=diabetes.features, outputs=1, hidden=16)
    start = initial_weights(architecture, seed=0)
    weights = train(
        architecture, start, diabetes.train_features, targets, training=Training(epochs=30), seed=0
    )
    assert loss(architecture, weights, diabetes.test_features, test_targets) < 0.75  # 1.0 predicts the mean
    assert predict(architecture, weights, diabetes.test_features).shape == (len(test_targets),)


def test_classifiers_predict_probabilities(digits: Split) -> None:
    architecture = Architecture(family=Family.MLP, features=digits.features, outputs=10)
    probabilities = predict(architecture, initial_weights(architecture, seed=3), digits.test_features)
    assert probabilities.shape == (len(digits.test_features), 10)
    assert (probabilities >= 0).all()
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0)


# --- federated use -------------------------------------------------------------------------------


def federated_average(updates: list[list[np.ndarray]], rows: list[int]) -> list[np.ndarray]:
    """FedAvg: each weight array averaged over the nodes, weighted by the rows a node trained on."""
    shares = np.asarray(rows, dtype=float) / sum(rows)
    return [
        sum(share * update[k] for share, update in zip(shares, updates, strict=True))
        for k in range(len(updates[0]))
    ]


def test_fedavg_over_iid_nodes_nears_central_training(cancer: Split) -> None:
    architecture = Architecture(family=Family.LOGISTIC, features=cancer.features, outputs=2)
    central = accuracy(architecture, fit(architecture, cancer, Training(epochs=10)), cancer)
    nodes = partitions.iid(cancer.train_labels, 5, seed=0)
    weights = initial_weights(architecture, seed=0)
    for round_ in range(10):
        updates = [
            train(architecture, weights, cancer.train_features[rows], cancer.train_labels[rows],
                  training=Training(epochs=1), seed=100 * round_ + node)
            for node, rows in enumerate(nodes)
        ]  # fmt: skip
        weights = federated_average(updates, [len(rows) for rows in nodes])
    federated = accuracy(architecture, weights, cancer)
    assert central >= 0.93
    assert federated >= central - 0.03


def test_the_proximal_term_keeps_local_weights_near_the_global_ones(cancer: Split) -> None:
    architecture = Architecture(family=Family.MLP, features=cancer.features, outputs=2)
    global_weights = fit(architecture, cancer, Training(epochs=1))
    skewed = partitions.dirichlet(cancer.train_labels, 5, alpha=0.1, seed=0)
    rows = max(skewed, key=len)
    drift = {
        mu: distance(
            train(architecture, global_weights, cancer.train_features[rows], cancer.train_labels[rows],
                  training=Training(epochs=5, proximal_mu=mu), seed=0),
            global_weights,
        )
        for mu in (0.0, 0.1, 1.0)
    }  # fmt: skip
    assert drift[0.0] > drift[0.1] > drift[1.0]
    assert drift[1.0] < 0.7 * drift[0.0]


# --- differential privacy ------------------------------------------------------------------------


def test_dp_training_is_deterministic_noisy_and_still_learns(cancer: Split) -> None:
    architecture = Architecture(family=Family.LOGISTIC, features=cancer.features, outputs=2)
    private = Training(epochs=5, clip_norm=1.0, noise_multiplier=1.0)
    first, again = fit(architecture, cancer, private), fit(architecture, cancer, private)
    other_seed = fit(architecture, cancer, private, seed=1)
    clipped_only = fit(architecture, cancer, Training(epochs=5, clip_norm=1.0))
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    assert distance(first, other_seed) > 0.01
    assert distance(first, clipped_only) > 0.01
    assert accuracy(architecture, first, cancer) >= 0.88


def test_a_clip_that_no_row_reaches_changes_nothing(cancer: Split) -> None:
    architecture = Architecture(family=Family.MLP, features=cancer.features, outputs=2)
    plain = fit(architecture, cancer, Training(epochs=2))
    loose = fit(architecture, cancer, Training(epochs=2, clip_norm=1e9))
    tight = fit(architecture, cancer, Training(epochs=2, clip_norm=0.1))
    for a, b in zip(plain, loose, strict=True):
        np.testing.assert_allclose(a, b)
    assert distance(plain, tight) > 0.01


CASES = {
    "logistic": Architecture(family=Family.LOGISTIC, features=4, outputs=3),
    "linear": Architecture(family=Family.LINEAR, features=4, outputs=1),
    "mlp classifier": Architecture(family=Family.MLP, features=4, outputs=3, hidden=5),
    "mlp regressor": Architecture(family=Family.MLP, features=4, outputs=1, hidden=5),
}


def random_problem(
    architecture: Architecture, rows: int = 6
) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    weights = [rng.normal(0.0, 0.5, shape) for shape in weight_shapes(architecture)]
    features = rng.normal(size=(rows, architecture.features))
    if architecture.classification:
        return weights, features, rng.integers(0, architecture.outputs, rows)
    return weights, features, rng.normal(size=rows)


def summed_objective(architecture: Architecture, weights, features, labels) -> float:
    """What `gradients` differentiates: summed cross-entropy, or summed half squared error."""
    mean = loss(architecture, weights, features, labels)
    return len(labels) * (mean if architecture.classification else mean / 2)


@pytest.mark.parametrize("architecture", CASES.values(), ids=CASES.keys())
def test_gradients_match_finite_differences(architecture: Architecture) -> None:
    weights, features, labels = random_problem(architecture)
    analytic = gradients(architecture, weights, features, labels)
    step = 1e-6
    for k, array in enumerate(weights):
        for index in np.ndindex(array.shape):
            up, down = [w.copy() for w in weights], [w.copy() for w in weights]
            up[k][index] += step
            down[k][index] -= step
            numeric = (summed_objective(architecture, up, features, labels)
                       - summed_objective(architecture, down, features, labels)) / (2 * step)  # fmt: skip
            assert analytic[k][index] == pytest.approx(numeric, rel=1e-5, abs=1e-6)


@pytest.mark.parametrize("architecture", CASES.values(), ids=CASES.keys())
def test_clipping_bounds_each_rows_gradient(architecture: Architecture) -> None:
    weights, features, labels = random_problem(architecture)
    norms = example_gradient_norms(architecture, weights, features, labels)
    clip = float(np.median(norms))
    clipped_rows = []
    for row in range(len(labels)):
        one = (features[row : row + 1], labels[row : row + 1])
        assert np.linalg.norm(flat(gradients(architecture, weights, *one))) == pytest.approx(norms[row])
        clipped = gradients(architecture, weights, *one, clip_norm=clip)
        assert np.linalg.norm(flat(clipped)) == pytest.approx(min(norms[row], clip))
        clipped_rows.append(flat(clipped))
    batch = flat(gradients(architecture, weights, features, labels, clip_norm=clip))
    np.testing.assert_allclose(batch, np.sum(clipped_rows, axis=0))


# --- contracts -----------------------------------------------------------------------------------


def test_train_leaves_its_inputs_alone_and_returns_new_arrays(cancer: Split) -> None:
    architecture = Architecture(family=Family.MLP, features=cancer.features, outputs=2)
    weights = initial_weights(architecture, seed=0)
    kept = ([w.copy() for w in weights], cancer.train_features.copy(), cancer.train_labels.copy())
    private = Training(epochs=1, proximal_mu=0.5, clip_norm=1.0, noise_multiplier=0.5)
    trained = train(
        architecture, weights, cancer.train_features, cancer.train_labels, training=private, seed=0
    )
    assert all(np.array_equal(w, k) for w, k in zip(weights, kept[0], strict=True))
    assert np.array_equal(cancer.train_features, kept[1])
    assert np.array_equal(cancer.train_labels, kept[2])
    assert not any(np.shares_memory(t, w) for t, w in zip(trained, weights, strict=True))
    assert all(t.dtype == np.float64 for t in trained)


def test_training_is_deterministic_for_a_seed(digits: Split) -> None:
    architecture = Architecture(family=Family.MLP, features=digits.features, outputs=10)
    same = [fit(architecture, digits, Training(), seed=5) for _ in range(2)]
    other = fit(architecture, digits, Training(), seed=6)
    assert all(np.array_equal(a, b) for a, b in zip(*same, strict=True))
    assert distance(same[0], other) > 0.01


def test_initial_weights_follow_the_architecture() -> None:
    mlp = Architecture(family=Family.MLP, features=7, outputs=3, hidden=4)
    weights = initial_weights(mlp, seed=1)
    assert [w.shape for w in weights] == [(7, 4), (4,), (4, 3), (3,)]
    assert all(w.dtype == np.float64 for w in weights)
    assert np.abs(weights[0]).max() > 0
    assert distance(weights, initial_weights(mlp, seed=2)) > 0
    logistic = Architecture(family=Family.LOGISTIC, features=7, outputs=2)
    assert [w.shape for w in initial_weights(logistic, seed=1)] == [(7, 2), (2,)]


def test_check_weights_rejects_malformed_updates() -> None:
    architecture = Architecture(family=Family.MLP, features=3, outputs=2, hidden=4)
    good = initial_weights(architecture, seed=0)
    check_weights(architecture, good)
    malformed = {
        "expected 4 weight arrays": good[:3],
        "shape \\(4, 3\\), expected \\(3, 4\\)": [good[0].T, *good[1:]],
        "weight array 3 has shape \\(3,\\)": [*good[:3], np.zeros(3)],
        "not finite": [good[0], np.full(4, np.nan), *good[2:]],
        "not numbers": [good[0].astype(str), *good[1:]],
    }
    for message, weights in malformed.items():
        with pytest.raises(ValueError, match=message):
            check_weights(architecture, weights)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"family": Family.LINEAR, "features": 3, "outputs": 2}, "linear regression has one output"),
        ({"family": Family.LOGISTIC, "features": 3, "outputs": 1}, "at least 2 classes"),
        ({"family": Family.MLP, "features": 0, "outputs": 2}, "at least one feature"),
        ({"family": Family.MLP, "features": 3, "outputs": 2, "hidden": 0}, "at least one unit"),
        ({"family": "forest", "features": 3, "outputs": 2}, "'forest' is not a valid Family"),
    ],
)
def test_an_impossible_architecture_is_refused(settings: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Architecture(**settings)


def test_a_family_may_be_named() -> None:
    architecture = Architecture(family="mlp", features=3, outputs=1)  # type: ignore[arg-type]
    assert architecture.family is Family.MLP
    assert not architecture.classification


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"epochs": 0}, "epochs must be at least 1"),
        ({"learning_rate": 0.0}, "learning_rate must be > 0"),
        ({"learning_rate": float("nan")}, "learning_rate must be > 0"),
        ({"batch_size": 0}, "batch_size must be at least 1"),
        ({"proximal_mu": -0.1}, "proximal_mu must be >= 0"),
        ({"clip_norm": 0.0}, "clip_norm must be > 0"),
        ({"noise_multiplier": -1.0, "clip_norm": 1.0}, "noise_multiplier must be >= 0"),
        ({"noise_multiplier": 1.0}, "needs a clip_norm"),
    ],
)
def test_impossible_training_settings_are_refused(settings: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Training(**settings)


def test_rows_that_do_not_fit_the_model_are_refused(cancer: Split) -> None:
    architecture = Architecture(family=Family.LOGISTIC, features=cancer.features, outputs=2)
    weights = initial_weights(architecture, seed=0)
    rows = cancer.train_features[:5]
    with pytest.raises(ValueError, match="integers from 0 to 1"):
        train(architecture, weights, rows, np.array([0, 1, 2, 0, 1]), training=Training(), seed=0)
    with pytest.raises(ValueError, match="labels have shape"):
        train(architecture, weights, rows, np.array([0, 1]), training=Training(), seed=0)
    with pytest.raises(ValueError, match="features have shape"):
        predict(architecture, weights, rows[:, :3])


def test_divergence_is_reported_rather_than_returned(diabetes: Split) -> None:
    architecture = Architecture(family=Family.MLP, features=diabetes.features, outputs=1)
    with pytest.raises(ValueError, match="training diverged"):
        fit(architecture, diabetes, Training(learning_rate=1.0))  # raw targets are in the hundreds


# --- partitions ----------------------------------------------------------------------------------


def top_two_share(labels: np.ndarray) -> float:
    counts = np.sort(np.bincount(labels))[::-1]
    return float(counts[:2].sum() / counts.sum())


def assert_covers_every_row_once(shares: list[np.ndarray], rows: int) -> None:
    np.testing.assert_array_equal(np.sort(np.concatenate(shares)), np.arange(rows))


def test_iid_covers_every_row_once_in_even_shares(digits: Split) -> None:
    shares = partitions.iid(digits.train_labels, 7, seed=0)
    sizes = [len(share) for share in shares]
    assert len(shares) == 7
    assert max(sizes) - min(sizes) <= 1
    assert_covers_every_row_once(shares, len(digits.train_labels))


def test_dirichlet_with_a_small_alpha_skews_the_labels(digits: Split) -> None:
    labels = digits.train_labels
    skewed = partitions.dirichlet(labels, 10, alpha=0.1, seed=0, min_rows=20)
    even = partitions.dirichlet(labels, 10, alpha=100.0, seed=0)
    assert_covers_every_row_once(skewed, len(labels))
    assert min(len(share) for share in skewed) >= 20
    assert np.median([top_two_share(labels[share]) for share in skewed]) >= 0.7
    assert max(top_two_share(labels[share]) for share in even) <= 0.35


def test_dirichlet_bins_regression_targets_into_quantiles(diabetes: Split) -> None:
    targets = diabetes.train_labels.astype(float)
    skewed = partitions.dirichlet(targets, 5, alpha=0.1, seed=0)
    even = partitions.iid(targets, 5, seed=0)
    assert_covers_every_row_once(skewed, len(targets))
    node_means = [[targets[share].mean() for share in shares] for shares in (skewed, even)]
    assert np.std(node_means[0]) > 3 * np.std(node_means[1])


def test_partitions_are_deterministic_per_seed(cancer: Split) -> None:
    labels = cancer.train_labels
    for split_rows in (
        lambda seed: partitions.iid(labels, 4, seed=seed),
        lambda seed: partitions.dirichlet(labels, 4, alpha=0.5, seed=seed),
    ):
        first, again, other = split_rows(0), split_rows(0), split_rows(1)
        assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
        assert not all(np.array_equal(a, b) for a, b in zip(first, other, strict=True))


def test_impossible_partitions_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(partitions, "MAX_TRIES", 50)  # the refusal below would otherwise take a second
    labels = np.repeat(np.arange(10), 10)
    with pytest.raises(ValueError, match="cannot split 100 rows over 101 nodes"):
        partitions.iid(labels, 101, seed=0)
    with pytest.raises(ValueError, match="cannot give 11 nodes 10 rows each"):
        partitions.dirichlet(labels, 11, alpha=1.0, seed=0)
    with pytest.raises(ValueError, match="alpha must be > 0"):
        partitions.dirichlet(labels, 2, alpha=0.0, seed=0)
    with pytest.raises(ValueError, match="in 50 tries gave every node 10 rows"):
        partitions.dirichlet(labels, 10, alpha=0.01, seed=0)
