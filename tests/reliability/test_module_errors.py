"""Wrong uses of the layers and losses: constructors validate their arguments, forward passes their
inputs, each error naming the layer, the argument, what it got and what it expects."""

from __future__ import annotations

import gradus.nn.functional as F
import numpy as np
import pytest

import gradus
from gradus import nn
from gradus.errors import DTypeError, ShapeError

from ._table import check

_int_input = gradus.ones(2, 3, dtype=gradus.int64)

CASES = [
    # Linear / Bilinear
    (
        "Linear-float",
        lambda: nn.Linear(3.5, 2),
        TypeError,
        r"Linear: in_features must be an int, got 3\.5 "
        r"\(float\)",
    ),
    (
        "Linear-negative",
        lambda: nn.Linear(-1, 2),
        ValueError,
        r"Linear: in_features must be "
        r"non-negative.*-1",
    ),
    (
        "Linear-out-negative",
        lambda: nn.Linear(3, -2),
        ValueError,
        r"Linear: out_features must be "
        r"non-negative.*-2",
    ),
    (
        "Linear-str",
        lambda: nn.Linear(3, "2"),
        TypeError,
        r"Linear: out_features must be an int, got '2' "
        r"\(str\)",
    ),
    ("Linear-none", lambda: nn.Linear(None, 2), TypeError, r"Linear: in_features must be an int, got None"),
    (
        "Linear-bool",
        lambda: nn.Linear(True, 2),
        TypeError,
        r"Linear: in_features must be an int, got True "
        r"\(bool\)",
    ),
    (
        "Linear-forward-features",
        lambda: nn.Linear(3, 2)(gradus.ones(4, 5)),
        ShapeError,
        r"Linear: expected input with 3 features.*got 5",
    ),
    (
        "Bilinear-float",
        lambda: nn.Bilinear(2.5, 2, 2),
        TypeError,
        r"Bilinear: in1_features must be an int, "
        r"got 2\.5",
    ),
    (
        "Bilinear-negative",
        lambda: nn.Bilinear(2, 2, -1),
        ValueError,
        r"Bilinear: out_features must be "
        r"non-negative",
    ),
    # convolutions
    (
        "Conv2d-out-zero",
        lambda: nn.Conv2d(3, 0, 3),
        ValueError,
        r"Conv2d: out_channels must be "
        r"positive.*got 0",
    ),
    (
        "Conv2d-in-zero",
        lambda: nn.Conv2d(0, 4, 3),
        ValueError,
        r"Conv2d: in_channels must be positive.*got "
        r"0",
    ),
    (
        "Conv2d-in-float",
        lambda: nn.Conv2d(3.0, 4, 3),
        TypeError,
        r"Conv2d: in_channels must be an int, got "
        r"3\.0",
    ),
    (
        "Conv2d-kernel-zero",
        lambda: nn.Conv2d(3, 4, 0),
        ValueError,
        r"Conv2d: kernel_size must be "
        r"positive.*got 0",
    ),
    (
        "Conv2d-kernel-negative",
        lambda: nn.Conv2d(3, 4, -1),
        ValueError,
        r"Conv2d: kernel_size must be "
        r"positive.*-1",
    ),
    (
        "Conv2d-kernel-float",
        lambda: nn.Conv2d(3, 4, 2.5),
        TypeError,
        r"Conv2d: kernel_size must be an int, "
        r"got 2\.5",
    ),
    (
        "Conv2d-kernel-3-tuple",
        lambda: nn.Conv2d(3, 4, (3, 3, 3)),
        ValueError,
        r"Conv2d: kernel_size must be an int or a sequence of 2 ints, got \(3, 3, 3\)",
    ),
    (
        "Conv2d-stride-zero",
        lambda: nn.Conv2d(3, 4, 3, stride=0),
        ValueError,
        r"Conv2d: stride must be "
        r"positive.*0",
    ),
    (
        "Conv2d-padding-negative",
        lambda: nn.Conv2d(3, 4, 3, padding=-1),
        ValueError,
        r"Conv2d: padding must be non-negative.*-1",
    ),
    (
        "Conv2d-padding-str",
        lambda: nn.Conv2d(3, 4, 3, padding="full"),
        ValueError,
        r"Conv2d: padding must be an int, a tuple, 'valid' or 'same', got 'full'",
    ),
    (
        "Conv2d-dilation-zero",
        lambda: nn.Conv2d(3, 4, 3, dilation=0),
        ValueError,
        r"Conv2d: dilation must "
        r"be positive",
    ),
    (
        "Conv2d-groups-zero",
        lambda: nn.Conv2d(3, 4, 3, groups=0),
        ValueError,
        r"Conv2d: groups must be a "
        r"positive integer",
    ),
    (
        "Conv2d-groups-indivisible",
        lambda: nn.Conv2d(3, 4, 3, groups=2),
        ValueError,
        r"Conv2d: in_channels \(3\) must be divisible by groups \(2\)",
    ),
    (
        "Conv2d-padding-mode",
        lambda: nn.Conv2d(3, 4, 3, padding_mode="wrap"),
        ValueError,
        r"Conv2d: padding_mode must be one of",
    ),
    (
        "Conv2d-forward-channels",
        lambda: nn.Conv2d(3, 4, 3)(gradus.ones(1, 2, 5, 5)),
        ShapeError,
        r"Conv2d: expected input with 3 channels.*got 2",
    ),
    (
        "Conv1d-float",
        lambda: nn.Conv1d(2.5, 4, 3),
        TypeError,
        r"Conv1d: in_channels must be an int, got "
        r"2\.5",
    ),
    (
        "Conv3d-kernel-2-tuple",
        lambda: nn.Conv3d(3, 4, (1, 1)),
        ValueError,
        r"Conv3d: kernel_size must be an int or a sequence of 3 ints",
    ),
    (
        "ConvTranspose2d-output-padding",
        lambda: nn.ConvTranspose2d(3, 4, 3, output_padding=-1),
        ValueError,
        r"ConvTranspose2d: output_padding must be non-negative",
    ),
    (
        "ConvTranspose2d-out-zero",
        lambda: nn.ConvTranspose2d(3, 0, 3),
        ValueError,
        r"ConvTranspose2d: out_channels must be positive",
    ),
    # pooling
    ("MaxPool2d-zero", lambda: nn.MaxPool2d(0), ValueError, r"MaxPool2d: kernel_size must be positive.*0"),
    (
        "MaxPool2d-float",
        lambda: nn.MaxPool2d(2.5),
        TypeError,
        r"MaxPool2d: kernel_size must be an int, got "
        r"2\.5",
    ),
    (
        "MaxPool2d-stride-zero",
        lambda: nn.MaxPool2d(2, stride=0),
        ValueError,
        r"MaxPool2d: stride must be "
        r"positive",
    ),
    (
        "MaxPool1d-padding-negative",
        lambda: nn.MaxPool1d(2, padding=-1),
        ValueError,
        r"MaxPool1d: padding must be non-negative",
    ),
    (
        "AvgPool2d-negative",
        lambda: nn.AvgPool2d(-1),
        ValueError,
        r"AvgPool2d: kernel_size must be "
        r"positive.*-1",
    ),
    ("AvgPool1d-float", lambda: nn.AvgPool1d(1.5), TypeError, r"AvgPool1d: kernel_size must be an int"),
    (
        "AdaptiveAvgPool2d-negative",
        lambda: nn.AdaptiveAvgPool2d(-1),
        ValueError,
        r"AdaptiveAvgPool2d: output_size must be positive.*-1",
    ),
    (
        "AdaptiveAvgPool2d-float",
        lambda: nn.AdaptiveAvgPool2d((2, 1.5)),
        TypeError,
        r"AdaptiveAvgPool2d: output_size must be an int, got 1\.5",
    ),
    # normalisation
    (
        "BatchNorm1d-zero",
        lambda: nn.BatchNorm1d(0),
        ValueError,
        r"BatchNorm1d: num_features must be "
        r"positive.*0",
    ),
    (
        "BatchNorm1d-float",
        lambda: nn.BatchNorm1d(2.5),
        TypeError,
        r"BatchNorm1d: num_features must be an "
        r"int, got 2\.5",
    ),
    (
        "BatchNorm1d-eps-zero",
        lambda: nn.BatchNorm1d(3, eps=0),
        ValueError,
        r"BatchNorm1d: eps must be > "
        r"0\.0, got 0",
    ),
    (
        "BatchNorm1d-momentum",
        lambda: nn.BatchNorm1d(3, momentum=2),
        ValueError,
        r"BatchNorm1d: momentum "
        r"must be <= 1\.0",
    ),
    (
        "BatchNorm1d-momentum-str",
        lambda: nn.BatchNorm1d(3, momentum="a"),
        TypeError,
        r"BatchNorm1d: momentum must be a number, got 'a'",
    ),
    (
        "BatchNorm1d-int64-input",
        lambda: nn.BatchNorm1d(3)(_int_input),
        DTypeError,
        r"BatchNorm1d.*expected a floating-point input, got dtype int64.*x\.float\(\)",
    ),
    (
        "BatchNorm2d-int64-input",
        lambda: nn.BatchNorm2d(3)(gradus.ones(1, 3, 2, 2, dtype=gradus.int64)),
        DTypeError,
        r"BatchNorm2d.*floating-point input, got dtype int64",
    ),
    (
        "BatchNorm2d-bool-input",
        lambda: nn.BatchNorm2d(3)(gradus.ones(1, 3, 2, 2, dtype=gradus.bool)),
        DTypeError,
        r"BatchNorm2d.*dtype bool",
    ),
    (
        "BatchNorm1d-channels",
        lambda: nn.BatchNorm1d(4)(gradus.ones(2, 3)),
        ValueError,
        r"BatchNorm1d.*expected 4 channels in dim 1",
    ),
    (
        "BatchNorm2d-ndim",
        lambda: nn.BatchNorm2d(3)(gradus.ones(2, 3)),
        ValueError,
        r"BatchNorm2d.*expected "
        r"4D input",
    ),
    (
        "GroupNorm-zero-groups",
        lambda: nn.GroupNorm(0, 4),
        ValueError,
        r"GroupNorm: num_groups must be "
        r"positive",
    ),
    (
        "GroupNorm-indivisible",
        lambda: nn.GroupNorm(3, 4),
        ValueError,
        r"num_channels \(4\) must be "
        r"divisible by num_groups \(3\)",
    ),
    ("GroupNorm-eps", lambda: nn.GroupNorm(2, 4, eps=-1), ValueError, r"GroupNorm: eps must be > 0"),
    ("LayerNorm-zero", lambda: nn.LayerNorm(0), ValueError, r"LayerNorm: normalized_shape must be positive"),
    ("LayerNorm-eps", lambda: nn.LayerNorm(3, eps=-1), ValueError, r"LayerNorm: eps must be > 0"),
    (
        "LayerNorm-str",
        lambda: nn.LayerNorm("3"),
        TypeError,
        r"LayerNorm: normalized_shape must be an int "
        r"or a sequence",
    ),
    # embeddings, dropout, recurrent
    (
        "Embedding-negative",
        lambda: nn.Embedding(-1, 3),
        ValueError,
        r"Embedding: num_embeddings must be "
        r"non-negative",
    ),
    (
        "Embedding-float",
        lambda: nn.Embedding(5, 2.5),
        TypeError,
        r"Embedding: embedding_dim must be an "
        r"int, got 2\.5",
    ),
    (
        "Embedding-padding-idx",
        lambda: nn.Embedding(5, 3, padding_idx=7),
        ValueError,
        r"Embedding: padding_idx 7 must be within num_embeddings \(5\)",
    ),
    (
        "Embedding-index-range",
        lambda: nn.Embedding(5, 3)(gradus.tensor([7])),
        IndexError,
        r"Embedding.*index 7 is out of range .*5 rows",
    ),
    (
        "Embedding-float-index",
        lambda: nn.Embedding(5, 3)(gradus.tensor([1.5])),
        TypeError,
        r"Embedding.*indices must be integers",
    ),
    (
        "Dropout-p-range",
        lambda: nn.Dropout(p=2),
        ValueError,
        r"Dropout: dropout probability has to be "
        r"between 0 and 1",
    ),
    (
        "Dropout-p-str",
        lambda: nn.Dropout(p="a"),
        TypeError,
        r"Dropout: p \(the dropout probability\) must "
        r"be a number",
    ),
    (
        "LSTM-hidden-zero",
        lambda: nn.LSTM(3, 0),
        ValueError,
        r"LSTM: hidden_size must be a positive "
        r"integer, got 0",
    ),
    (
        "GRU-layers-zero",
        lambda: nn.GRU(3, 4, num_layers=0),
        ValueError,
        r"GRU: num_layers must be a "
        r"positive integer",
    ),
    (
        "RNN-nonlinearity",
        lambda: nn.RNN(3, 4, nonlinearity="x"),
        ValueError,
        r"RNN: unknown nonlinearity "
        r"'x'",
    ),
    # containers and state dicts
    ("Sequential-non-module", lambda: nn.Sequential(3), TypeError, r"int is not a Module subclass"),
    ("ModuleList-non-module", lambda: nn.ModuleList([3]), TypeError, r"int is not a Module subclass"),
    (
        "load_state_dict-shape",
        lambda: nn.Linear(3, 2).load_state_dict({"weight": gradus.ones(3, 3), "bias": gradus.ones(2)}),
        RuntimeError,
        r"size mismatch for weight: .*\(3, 3\).*\(2, 3\)",
    ),
    (
        "load_state_dict-missing",
        lambda: nn.Linear(3, 2).load_state_dict({"weight": gradus.ones(2, 3)}),
        RuntimeError,
        r"Missing key\(s\) in state_dict: \"bias\"",
    ),
    # losses: PyTorch's target checks
    (
        "bce-target-above-one",
        lambda: F.binary_cross_entropy(gradus.tensor([0.5]), gradus.tensor([1.5])),
        ValueError,
        r"binary_cross_entropy: all elements of target should be between 0 and 1, got values in \[1\.5",
    ),
    (
        "bce-target-negative",
        lambda: F.binary_cross_entropy(gradus.tensor([0.5, 0.5]), gradus.tensor([-0.5, 1.0])),
        ValueError,
        r"binary_cross_entropy: .*target.*\[-0\.5, 1\.0\]",
    ),
    (
        "bce-target-nan",
        lambda: F.binary_cross_entropy(gradus.tensor([0.5]), gradus.tensor([float("nan")])),
        ValueError,
        r"binary_cross_entropy: .*target should be between 0 and 1",
    ),
    (
        "bce-input-nan",
        lambda: F.binary_cross_entropy(gradus.tensor([float("nan")]), gradus.tensor([1.0])),
        ValueError,
        r"binary_cross_entropy: all elements of input should be between 0 and 1.*nan",
    ),
    (
        "bce-input-logits",
        lambda: F.binary_cross_entropy(gradus.tensor([2.0]), gradus.tensor([1.0])),
        ValueError,
        r"binary_cross_entropy: .*input.*binary_cross_entropy_with_logits",
    ),
    (
        "BCELoss-target",
        lambda: nn.BCELoss()(gradus.tensor([0.2]), gradus.tensor([2.0])),
        ValueError,
        r"binary_cross_entropy: .*target",
    ),
    (
        "cross_entropy-label-range",
        lambda: F.cross_entropy(gradus.ones(2, 3), gradus.tensor([0, 5])),
        IndexError,
        r"cross_entropy: target label 5 is out of range for 3 classes",
    ),
    (
        "nll_loss-float-target",
        lambda: F.nll_loss(gradus.ones(2, 3), gradus.tensor([0.5, 1.0])),
        TypeError,
        r"nll_loss: class-index targets must be integers",
    ),
    (
        "mse_loss-shape",
        lambda: F.mse_loss(gradus.ones(2), gradus.ones(3)),
        ValueError,
        r"mse_loss: target size \(3,\) is different from the input size \(2,\)",
    ),
]


@pytest.mark.parametrize("fn,exc,pattern", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_wrong_use_is_refused_clearly(fn, exc, pattern):
    check(fn, exc, pattern)


def test_valid_uses_still_work():
    assert nn.Linear(0, 2).weight.shape == (2, 0)
    assert nn.Conv2d(3, 4, (3, 1), padding="same")(gradus.ones(1, 3, 5, 5)).shape == (1, 4, 5, 5)
    assert nn.MaxPool2d((2, 2), stride=None)(gradus.ones(1, 1, 4, 4)).shape == (1, 1, 2, 2)
    assert nn.AdaptiveAvgPool2d((None, 2))(gradus.ones(1, 1, 4, 4)).shape == (1, 1, 4, 2)
    assert nn.BatchNorm1d(3, momentum=None)(gradus.ones(2, 3)).shape == (2, 3)
    assert float(F.binary_cross_entropy(gradus.tensor([0.5]), gradus.tensor([1.0])).item()) > 0


# --------------------------------------------------------------------------- the dtype rule
# A float64 input into a float32 layer is an error naming the layer, both dtypes and both fixes (as
# PyTorch), not a silent run of the whole layer in float64.


def _f64(*shape):
    return gradus.tensor(np.ones(shape))  # np.ones is float64: the usual way to get here


DTYPE_CASES = [
    ("Linear", lambda: nn.Linear(3, 2)(_f64(1, 3))),
    ("Bilinear", lambda: nn.Bilinear(3, 2, 4)(_f64(1, 3), _f64(1, 2))),
    ("Conv1d", lambda: nn.Conv1d(1, 2, 3)(_f64(1, 1, 5))),
    ("Conv2d", lambda: nn.Conv2d(1, 2, 3)(_f64(1, 1, 5, 5))),
    ("ConvTranspose2d", lambda: nn.ConvTranspose2d(1, 2, 3)(_f64(1, 1, 5, 5))),
    ("BatchNorm1d", lambda: nn.BatchNorm1d(3)(_f64(2, 3))),
    ("BatchNorm2d", lambda: nn.BatchNorm2d(3).eval()(_f64(2, 3, 4, 4))),
    ("LayerNorm", lambda: nn.LayerNorm(3)(_f64(2, 3))),
    ("GroupNorm", lambda: nn.GroupNorm(1, 2)(_f64(2, 2, 3))),
    ("PReLU", lambda: nn.PReLU()(_f64(2, 3))),
    ("RNN", lambda: nn.RNN(3, 2)(_f64(4, 1, 3))),
    ("LSTM", lambda: nn.LSTM(3, 2)(_f64(4, 1, 3))),
    ("GRU", lambda: nn.GRU(3, 2)(_f64(4, 1, 3))),
    ("LSTMCell", lambda: nn.LSTMCell(3, 2)(_f64(1, 3))),
    ("MultiheadAttention", lambda: nn.MultiheadAttention(4, 2)(_f64(2, 1, 4), _f64(2, 1, 4), _f64(2, 1, 4))),
    ("TransformerEncoderLayer", lambda: nn.TransformerEncoderLayer(4, 2, 8)(_f64(2, 1, 4))),
]


@pytest.mark.parametrize("layer, fn", DTYPE_CASES, ids=[c[0] for c in DTYPE_CASES])
def test_float64_input_into_float32_layer_is_a_clear_error(layer, fn):
    with pytest.raises(DTypeError) as info:
        fn()
    msg = str(info.value)
    assert msg.startswith(layer), msg
    assert "float64" in msg and "float32" in msg, msg
    assert ".to(" in msg, msg  # says how to fix it


def test_the_dtype_rule_has_both_documented_fixes():
    x = _f64(2, 3)
    layer = nn.Linear(3, 2)
    assert layer(x.float()).dtype == gradus.float32  # fix 1: cast the input
    assert layer.double()(x).dtype == gradus.float64  # fix 2: cast the layer


def test_integer_inputs_of_embedding_and_float_masks_are_not_caught_by_the_rule():
    assert nn.Embedding(5, 3)(gradus.tensor([1, 2])).dtype == gradus.float32
    x = gradus.zeros(2, 1, 4)
    mask = gradus.zeros(2, 2)  # float32 additive mask
    assert nn.MultiheadAttention(4, 2)(x, x, x, attn_mask=mask)[0].dtype == gradus.float32
