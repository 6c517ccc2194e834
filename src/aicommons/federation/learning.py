"""The model families of federated training runs: small numpy models whose weights are a list of arrays.

A model's weights are what Flower ships between the server and the nodes, in this order:

- `LOGISTIC` and `LINEAR`: ``[W (features, outputs), b (outputs,)]``.
- `MLP`: ``[W1 (features, hidden), b1 (hidden,), W2 (hidden, outputs), b2 (outputs,)]``.

Classification (``outputs > 1``) ends in a softmax trained on cross-entropy; binary problems use two
classes. Regression (``outputs == 1``) ends in a linear output trained on half the squared error.

Training is mini-batch SGD. Two options serve federated runs: FedProx's proximal term, which keeps a
node's weights near the global ones on skewed data, and DP-SGD, which clips each example's gradient
and adds Gaussian noise to each batch's sum. Per-example gradient norms are computed without building
per-example gradients: each dense layer's gradient for one example is the outer product of its input
and its output delta, whose Frobenius norm is the product of the two vectors' norms.
"""

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = [
    "Architecture",
    "Family",
    "Training",
    "check_weights",
    "example_gradient_norms",
    "gradients",
    "initial_weights",
    "loss",
    "predict",
    "train",
    "weight_shapes",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


class Family(StrEnum):
    """The kinds of model a training run can train."""

    LOGISTIC = "logistic"  # binary or multiclass (softmax) logistic regression
    LINEAR = "linear"  # linear regression
    MLP = "mlp"  # one ReLU hidden layer; softmax output for classification, linear for regression


@dataclass(frozen=True)
class Architecture:
    """The shape of a model: its family, how many features it reads and how many outputs it gives."""

    family: Family
    features: int
    outputs: int  # classes for classification (2 for binary), 1 for regression
    hidden: int = 32  # units of the MLP's hidden layer; ignored by the other families

    def __post_init__(self) -> None:
        object.__setattr__(self, "family", Family(self.family))
        _require(self.features >= 1, f"a model needs at least one feature, not {self.features}")
        _require(self.outputs >= 1, f"a model needs at least one output, not {self.outputs}")
        if self.family is Family.MLP:
            _require(self.hidden >= 1, f"the hidden layer needs at least one unit, not {self.hidden}")
        if self.family is Family.LINEAR:
            _require(self.outputs == 1, f"linear regression has one output, not {self.outputs}")
        if self.family is Family.LOGISTIC:
            _require(self.outputs >= 2, f"logistic regression needs at least 2 classes, not {self.outputs}")

    @property
    def classification(self) -> bool:
        """Whether the model predicts classes (a softmax over `outputs`) rather than a number."""
        return self.outputs > 1


@dataclass(frozen=True)
class Training:
    """How a node trains on its rows: SGD settings, FedProx's proximal term and DP-SGD's clip and noise."""

    epochs: int = 1
    learning_rate: float = 0.1
    batch_size: int = 32
    proximal_mu: float = 0.0  # FedProx: adds (mu/2)*||w - w_global||^2 to the local objective
    clip_norm: float | None = None  # DP-SGD: each example's gradient is clipped to this L2 norm ...
    noise_multiplier: float = 0.0  # ... and N(0, (noise_multiplier*clip_norm)^2) is added to a batch's sum

    def __post_init__(self) -> None:
        _require(self.epochs >= 1, f"epochs must be at least 1, not {self.epochs}")
        _require(_positive(self.learning_rate), f"learning_rate must be > 0, not {self.learning_rate}")
        _require(self.batch_size >= 1, f"batch_size must be at least 1, not {self.batch_size}")
        _require(_non_negative(self.proximal_mu), f"proximal_mu must be >= 0, not {self.proximal_mu}")
        clip = self.clip_norm
        _require(clip is None or _positive(clip), f"clip_norm must be > 0 or None, not {clip}")
        noise = self.noise_multiplier
        _require(_non_negative(noise), f"noise_multiplier must be >= 0, not {noise}")
        _require(noise == 0 or clip is not None, "noise_multiplier needs a clip_norm to scale the noise")


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)


def _positive(value: float) -> bool:
    return math.isfinite(value) and value > 0


def _non_negative(value: float) -> bool:
    return math.isfinite(value) and value >= 0


def weight_shapes(architecture: Architecture) -> list[tuple[int, ...]]:
    """The shape of each array of the architecture's weights, in order."""
    features, outputs = architecture.features, architecture.outputs
    if architecture.family is Family.MLP:
        hidden = architecture.hidden
        return [(features, hidden), (hidden,), (hidden, outputs), (outputs,)]
    return [(features, outputs), (outputs,)]


def initial_weights(architecture: Architecture, *, seed: int) -> list[FloatArray]:
    """Starting weights: zeros for the linear families, He-scaled random matrices for the MLP."""
    shapes = weight_shapes(architecture)
    if architecture.family is not Family.MLP:
        return [np.zeros(shape) for shape in shapes]
    rng = np.random.default_rng(seed)
    # Biases start at zero; each matrix is scaled by its fan-in so activations keep their variance.
    return [
        rng.normal(0.0, math.sqrt(2.0 / shape[0]), shape) if len(shape) == 2 else np.zeros(shape)
        for shape in shapes
    ]


def check_weights(architecture: Architecture, weights: Sequence[npt.NDArray[Any]]) -> None:
    """Raise ValueError unless the weights are finite numbers shaped as the architecture says."""
    shapes = weight_shapes(architecture)
    _require(len(weights) == len(shapes), f"expected {len(shapes)} weight arrays, got {len(weights)}")
    for index, (given, shape) in enumerate(zip(weights, shapes, strict=True)):
        array = np.asarray(given)
        _require(array.shape == shape, f"weight array {index} has shape {array.shape}, expected {shape}")
        numeric = np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype, np.floating)
        _require(numeric, f"weight array {index} holds {array.dtype}, not numbers")
        _require(bool(np.isfinite(array).all()), f"weight array {index} holds values that are not finite")


def predict(
    architecture: Architecture, weights: Sequence[npt.NDArray[Any]], features: npt.NDArray[Any]
) -> FloatArray:
    """Class probabilities, shape (rows, outputs), for classification; predicted values, (rows,), else."""
    check_weights(architecture, weights)
    logits = _logits(architecture, _floats(weights), _checked_features(architecture, features))
    return _softmax(logits) if architecture.classification else logits[:, 0]


def loss(
    architecture: Architecture,
    weights: Sequence[npt.NDArray[Any]],
    features: npt.NDArray[Any],
    labels: npt.NDArray[Any],
) -> float:
    """The mean cross-entropy (classification) or mean squared error (regression) over the rows."""
    check_weights(architecture, weights)
    inputs, targets = _checked_rows(architecture, features, labels)
    _require(len(inputs) > 0, "the loss of no rows is undefined")
    logits = _logits(architecture, _floats(weights), inputs)
    if architecture.classification:
        log_probabilities = logits - _logsumexp(logits)
        return float(-log_probabilities[np.arange(len(targets)), targets.astype(np.int64)].mean())
    return float(np.mean((logits[:, 0] - targets) ** 2))


def train(
    architecture: Architecture,
    weights: Sequence[npt.NDArray[Any]],
    features: npt.NDArray[Any],
    labels: npt.NDArray[Any],
    *,
    training: Training,
    seed: int,
) -> list[FloatArray]:
    """New weights after `training.epochs` of mini-batch SGD from `weights`; the inputs are left alone.

    The same seed gives the same weights. Shuffling and DP noise draw from separate streams, so runs
    that differ only in their noise see the same batches. Features, and regression targets, should be
    standardised: the default learning rate suits values of unit scale. ValueError if training diverges.
    """
    check_weights(architecture, weights)
    inputs, targets = _checked_rows(architecture, features, labels)
    start = _floats(weights)
    current = [array.copy() for array in start]
    shuffle_stream, noise_stream = np.random.default_rng(seed).spawn(2)
    with np.errstate(over="ignore", invalid="ignore"):  # divergence is reported below, not warned about
        for _ in range(training.epochs):
            for batch in _batches(len(inputs), training.batch_size, shuffle_stream):
                rows = (inputs[batch], targets[batch])
                current = _step(
                    architecture, current, start, rows, training=training, noise_stream=noise_stream
                )
    diverged = not all(np.isfinite(array).all() for array in current)
    _require(
        not diverged, "training diverged: lower the learning rate, or standardise the features and targets"
    )
    return current


def gradients(
    architecture: Architecture,
    weights: Sequence[npt.NDArray[Any]],
    features: npt.NDArray[Any],
    labels: npt.NDArray[Any],
    *,
    clip_norm: float | None = None,
) -> list[FloatArray]:
    """The gradient of the training loss *summed* over the rows, each row's gradient first clipped to
    `clip_norm` (L2 over all weights) when one is given. The regression loss is half the squared error."""
    check_weights(architecture, weights)
    inputs, targets = _checked_rows(architecture, features, labels)
    return _summed_gradient(architecture, _floats(weights), inputs, targets, clip_norm)


def example_gradient_norms(
    architecture: Architecture,
    weights: Sequence[npt.NDArray[Any]],
    features: npt.NDArray[Any],
    labels: npt.NDArray[Any],
) -> FloatArray:
    """The L2 norm of each row's own loss gradient over all the weights, shape (rows,)."""
    check_weights(architecture, weights)
    inputs, targets = _checked_rows(architecture, features, labels)
    return _layer_norms(_backward(architecture, _floats(weights), inputs, targets))


# --- data checks ---------------------------------------------------------------------------------


def _floats(weights: Sequence[npt.NDArray[Any]]) -> list[FloatArray]:
    return [np.array(array, dtype=np.float64) for array in weights]


def _checked_features(architecture: Architecture, features: npt.NDArray[Any]) -> FloatArray:
    inputs = np.asarray(features, dtype=np.float64)
    width = architecture.features
    _require(
        inputs.ndim == 2 and inputs.shape[1] == width,
        f"features have shape {inputs.shape}, not (rows, {width})",
    )
    _require(bool(np.isfinite(inputs).all()), "features hold values that are not finite")
    return inputs


def _checked_rows(
    architecture: Architecture, features: npt.NDArray[Any], labels: npt.NDArray[Any]
) -> tuple[FloatArray, FloatArray]:
    """Features and labels as floats; class labels must be whole numbers in 0..outputs-1."""
    inputs = _checked_features(architecture, features)
    targets = np.asarray(labels, dtype=np.float64)
    _require(targets.shape == (len(inputs),), f"labels have shape {targets.shape}, expected ({len(inputs)},)")
    _require(bool(np.isfinite(targets).all()), "labels hold values that are not finite")
    if architecture.classification:
        whole = bool((targets == np.round(targets)).all())
        in_range = bool(((targets >= 0) & (targets < architecture.outputs)).all())
        _require(whole and in_range, f"class labels must be integers from 0 to {architecture.outputs - 1}")
    return inputs, targets


# --- the model -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Layer:
    """A dense layer's part of the per-example gradients: row i's gradient is
    (outer(inputs[i], deltas[i]), deltas[i]) for (matrix, bias)."""

    inputs: FloatArray  # (rows, fan_in)
    deltas: FloatArray  # (rows, fan_out): d loss_i / d pre-activation_i


def _logits(architecture: Architecture, weights: list[FloatArray], inputs: FloatArray) -> FloatArray:
    if architecture.family is not Family.MLP:
        return inputs @ weights[0] + weights[1]
    hidden = np.maximum(inputs @ weights[0] + weights[1], 0.0)
    return hidden @ weights[2] + weights[3]


def _backward(
    architecture: Architecture, weights: list[FloatArray], inputs: FloatArray, targets: FloatArray
) -> list[_Layer]:
    """Back-propagation, one `_Layer` per dense layer, in the order of the weights."""
    if architecture.family is not Family.MLP:
        return [_Layer(inputs, _output_deltas(architecture, inputs @ weights[0] + weights[1], targets))]
    before = inputs @ weights[0] + weights[1]
    hidden = np.maximum(before, 0.0)
    deltas = _output_deltas(architecture, hidden @ weights[2] + weights[3], targets)
    hidden_deltas = (deltas @ weights[2].T) * (before > 0)
    return [_Layer(inputs, hidden_deltas), _Layer(hidden, deltas)]


def _output_deltas(architecture: Architecture, logits: FloatArray, targets: FloatArray) -> FloatArray:
    """d loss / d logits per row: softmax minus one-hot (cross-entropy), the residual (half squared error)."""
    if not architecture.classification:
        return logits - targets[:, None]
    deltas = _softmax(logits)
    deltas[np.arange(len(targets)), targets.astype(np.int64)] -= 1.0
    return deltas


def _softmax(logits: FloatArray) -> FloatArray:
    return np.exp(logits - _logsumexp(logits))


def _logsumexp(logits: FloatArray) -> FloatArray:
    top = logits.max(axis=1, keepdims=True)
    total: FloatArray = top + np.log(np.exp(logits - top).sum(axis=1, keepdims=True))
    return total


# --- gradients and SGD ---------------------------------------------------------------------------


def _layer_norms(layers: list[_Layer]) -> FloatArray:
    """Per-example gradient norms: ||outer(x, d)||^2 + ||d||^2 = (||x||^2 + 1) ||d||^2, summed over layers."""
    squares = sum(((layer.inputs**2).sum(axis=1) + 1.0) * (layer.deltas**2).sum(axis=1) for layer in layers)
    return np.sqrt(np.asarray(squares, dtype=np.float64))


def _summed_gradient(
    architecture: Architecture,
    weights: list[FloatArray],
    inputs: FloatArray,
    targets: FloatArray,
    clip_norm: float | None,
) -> list[FloatArray]:
    layers = _backward(architecture, weights, inputs, targets)
    scale = np.ones(len(inputs)) if clip_norm is None else _clip_scale(_layer_norms(layers), clip_norm)
    # Scaling a row's deltas scales every part of its gradient, so clipping costs no per-example arrays.
    summed: list[FloatArray] = []
    for layer in layers:
        deltas = layer.deltas * scale[:, None]
        summed += [layer.inputs.T @ deltas, deltas.sum(axis=0)]
    return summed


def _clip_scale(norms: FloatArray, clip_norm: float) -> FloatArray:
    return np.minimum(1.0, clip_norm / np.maximum(norms, np.finfo(np.float64).tiny))


def _batches(rows: int, size: int, stream: np.random.Generator) -> Iterator[IntArray]:
    order = stream.permutation(rows)
    for start in range(0, rows, size):
        yield order[start : start + size]


def _step(
    architecture: Architecture,
    current: list[FloatArray],
    start: list[FloatArray],
    rows: tuple[FloatArray, FloatArray],
    *,
    training: Training,
    noise_stream: np.random.Generator,
) -> list[FloatArray]:
    """One SGD step on a batch: its mean gradient, with DP noise and FedProx's pull towards `start`."""
    inputs, targets = rows
    summed = _summed_gradient(architecture, current, inputs, targets, training.clip_norm)
    if training.noise_multiplier > 0 and training.clip_norm is not None:
        spread = training.noise_multiplier * training.clip_norm
        summed = [part + noise_stream.normal(0.0, spread, part.shape) for part in summed]
    mean = [part / len(inputs) for part in summed]
    pulls = [training.proximal_mu * (now - then) for now, then in zip(current, start, strict=True)]
    rate = training.learning_rate
    return [now - rate * (g + pull) for now, g, pull in zip(current, mean, pulls, strict=True)]
