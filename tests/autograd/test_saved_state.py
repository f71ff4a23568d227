"""Saved state has one door: after ``backward()`` no node of the graph still holds an array.

A user who keeps the loss tensors (``losses.append(loss)``) keeps the whole graph reachable; PyTorch
frees every saved activation after backward, and so must we. Two checks:

* a graph walk after ``backward()`` over every op of the op harness, every fused op and every model of
  the zoo: no node's attributes (recursively through tuples, lists, dicts) hold an ndarray or a Tensor;
* a 200-step training loop of an MLP with BatchNorm that appends every loss tensor to a list: the
  memory it holds does not grow with the step count (tracemalloc, which NumPy reports to).
"""
from __future__ import annotations

import importlib
import tracemalloc

import numpy as np
import pytest

import gradus
import gradus.functional as F
from gradus import models, nn, optim
from gradus.autograd.function import AccumulateGrad
from tests.helpers import SeededInputs

# ---------------------------------------------------------------------------------------------
# the graph walk
# ---------------------------------------------------------------------------------------------
_ARRAY_TYPES = (np.ndarray, gradus.Tensor)


def _arrays_in(obj, path, found, depth=0):
    """Append (path, type) for every array/Tensor reachable through containers of ``obj``."""
    if isinstance(obj, _ARRAY_TYPES):
        found.append((path, type(obj).__name__))
    elif depth < 6 and isinstance(obj, (tuple, list, set, frozenset)):
        for i, v in enumerate(obj):
            _arrays_in(v, f"{path}[{i}]", found, depth + 1)
    elif depth < 6 and isinstance(obj, dict):
        for k, v in obj.items():
            _arrays_in(v, f"{path}[{k!r}]", found, depth + 1)
    elif depth < 6 and hasattr(obj, "__self__") and hasattr(obj.__self__, "__dict__"):
        _arrays_in(vars(obj.__self__), f"{path}.__self__", found, depth + 1)   # a bound method's state


def held_arrays(*roots) -> list:
    """Every (node name, attribute path, type) where a node reachable from ``roots`` holds an array."""
    found, seen = [], set()
    stack = [r.grad_fn for r in roots if r.grad_fn is not None]
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        if not isinstance(node, AccumulateGrad):  # holds its leaf by weak reference only
            hits = []
            for name, value in vars(node).items():
                _arrays_in(value, name, hits)
            found += [(node.name(), p, t) for p, t in hits]
        stack.extend(n for n, _ in node.next_functions)
    return found


def _backward_and_check(outputs):
    """Backward a weighted sum of every differentiable output, then walk the graph from it."""
    outs = [y for y in (outputs if isinstance(outputs, (tuple, list)) else [outputs])
            if isinstance(y, gradus.Tensor) and y.requires_grad]
    assert outs, "nothing to differentiate"
    loss = sum((y * gradus.tensor(np.cos(np.arange(y.numel())).reshape(y.shape), dtype=y.dtype)).sum()
               for y in outs)
    before = held_arrays(loss)
    loss.backward()
    after = held_arrays(loss)
    return before, after


def test_the_walk_sees_what_a_node_holds():
    """The checker itself can fail: before backward the graph holds its saved arrays."""
    x = gradus.randn(4, 3, requires_grad=True)
    before, after = _backward_and_check(F.cross_entropy(x, gradus.tensor([0, 1, 2, 0])))
    assert any(p.startswith("_raw") for _, p, _ in before), before   # logp, weights, masks
    assert any(p.startswith("_saved") for _, p, _ in before), before
    assert after == []


def test_raw_state_read_after_release_is_a_clear_error():
    x = gradus.randn(5, 4, requires_grad=True)
    y = F.layer_norm(x, (4,))
    y.sum().backward()
    with pytest.raises(gradus.errors.AutogradError, match="second time"):
        y.grad_fn.xhat  # noqa: B018
    with pytest.raises(AttributeError):
        y.grad_fn.no_such_attribute  # noqa: B018


def test_retain_graph_keeps_raw_state_for_a_second_backward():
    x = gradus.randn(6, 5, requires_grad=True)
    loss = F.cross_entropy(nn.BatchNorm1d(5)(x), gradus.tensor([0, 1, 2, 3, 4, 0]))
    loss.backward(retain_graph=True)
    g1 = x.grad.numpy().copy()
    loss.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * g1, rtol=1e-5, atol=1e-7)
    assert held_arrays(loss) == []


# -- every op of the op harness ---------------------------------------------------------------
_HARNESS_MODULES = ["elementwise", "indexing", "matmul", "movement", "reduce", "sorting", "special"]


def _harness_cases():
    cases = []
    for m in _HARNESS_MODULES:
        mod = importlib.import_module(f"tests.ops.test_{m}")
        cases += [c for c in mod.CASES if c.order >= 1]
    return cases


_CASES = _harness_cases()


@pytest.mark.parametrize("case", _CASES, ids=[str(c) for c in _CASES])
def test_harness_op_frees_saved_state(case):
    xs = case.tensors(np.float64, True)
    before, after = _backward_and_check(case.fn(*xs))
    assert after == [], f"{case}: still held after backward: {after}"


# -- every fused op (and the other functional ops with their own Function) ----------------------
def _r(*shape, seed=0):
    return SeededInputs(seed, np.float64).tensor(*shape, requires_grad=True)


def _labels(n, c):
    return gradus.tensor(np.arange(n) % c)


_FUSED = {
    "linear": lambda: F.linear(_r(4, 3), _r(5, 3, seed=1), _r(5, seed=2)),
    "linear_3d_nobias": lambda: F.linear(_r(2, 4, 3), _r(5, 3, seed=1)),
    "softmax": lambda: F.softmax(_r(4, 6), dim=1),
    "log_softmax": lambda: F.log_softmax(_r(4, 6), dim=0),
    "cross_entropy": lambda: F.cross_entropy(_r(6, 4), _labels(6, 4)),
    "cross_entropy_weighted_smoothed": lambda: F.cross_entropy(
        _r(6, 4), _labels(6, 4), weight=gradus.tensor(np.array([1.0, 2.0, 0.5, 1.0])), label_smoothing=0.1,
        ignore_index=3),
    "cross_entropy_none": lambda: F.cross_entropy(_r(2, 4, 3), gradus.tensor(np.zeros((2, 3), np.int64)),
                                                  reduction="none"),
    "batch_norm_train": lambda: F.batch_norm(
        _r(8, 3), gradus.zeros(3, dtype=gradus.float64), gradus.ones(3, dtype=gradus.float64), _r(3, seed=1),
        _r(3, seed=2), training=True),
    "layer_norm": lambda: F.layer_norm(_r(4, 5), (5,), _r(5, seed=1), _r(5, seed=2)),
    "group_norm": lambda: F.group_norm(_r(2, 4, 3), 2, _r(4, seed=1), _r(4, seed=2)),
    "instance_norm": lambda: F.instance_norm(_r(2, 3, 4, 4)),
    "gelu": lambda: F.gelu(_r(3, 4)),
    "gelu_tanh": lambda: F.gelu(_r(3, 4), approximate="tanh"),
    "silu": lambda: F.silu(_r(3, 4)),
    "leaky_relu": lambda: F.leaky_relu(_r(3, 4)),
    "hardtanh": lambda: F.hardtanh(_r(3, 4)),
    "elu": lambda: F.elu(_r(3, 4)),
    "softplus": lambda: F.softplus(_r(3, 4)),
    "logsigmoid": lambda: F.logsigmoid(_r(3, 4)),
    "erf": lambda: F.erf(_r(3, 4)),
    "bce": lambda: F.binary_cross_entropy(F.sigmoid(_r(3, 4)), gradus.tensor(np.ones((3, 4)))),
    "bce_logits": lambda: F.binary_cross_entropy_with_logits(_r(3, 4), gradus.tensor(np.ones((3, 4)))),
    "mse_l1_huber": lambda: F.mse_loss(_r(3, 4), _r(3, 4, seed=1)) + F.l1_loss(_r(3, 4), _r(3, 4, seed=2))
    + F.huber_loss(_r(3, 4), _r(3, 4, seed=3)),
    "nll": lambda: F.nll_loss(F.log_softmax(_r(5, 3), 1), _labels(5, 3)),
    "kl_div": lambda: F.kl_div(F.log_softmax(_r(5, 3), 1), F.softmax(_r(5, 3, seed=1), 1),
                               reduction="batchmean"),
    "dropout": lambda: F.dropout(_r(5, 6), 0.5, training=True),
    "embedding": lambda: F.embedding(gradus.tensor(np.array([[0, 2, 2], [1, 0, 3]])), _r(4, 3),
                                     padding_idx=0),
    "conv2d": lambda: F.conv2d(_r(2, 3, 6, 6), _r(4, 3, 3, 3, seed=1), _r(4, seed=2), padding=1),
    "conv2d_strided_groups": lambda: F.conv2d(_r(2, 4, 7, 7), _r(4, 2, 3, 3, seed=1), None, 2, 1, 1, 2),
    "conv1d": lambda: F.conv1d(_r(2, 3, 9), _r(4, 3, 3, seed=1), padding="same"),
    "conv_transpose2d": lambda: F.conv_transpose2d(_r(2, 3, 4, 4), _r(3, 2, 3, 3, seed=1), _r(2, seed=2),
                                                   2, 1),
    "unfold_fold": lambda: F.fold(F.unfold(_r(1, 2, 5, 5), 3, padding=1), (5, 5), 3, padding=1),
    "locally_connected2d": lambda: F.locally_connected2d(_r(2, 2, 5, 5), _r(3, 3, 4, 18, seed=1), None, 3),
    "max_pool2d": lambda: F.max_pool2d(_r(2, 3, 6, 6), 2),
    "max_pool2d_overlap_indices": lambda: F.max_pool2d(_r(2, 3, 7, 7), 3, 2, 1, return_indices=True)[0],
    "avg_pool2d": lambda: F.avg_pool2d(_r(2, 3, 7, 7), 3, 2, 1),
    "adaptive_avg_pool2d": lambda: F.adaptive_avg_pool2d(_r(2, 3, 7, 5), (3, 2)),
    "adaptive_max_pool2d": lambda: F.adaptive_max_pool2d(_r(2, 3, 7, 5), (3, 2)),
    "interpolate_bilinear": lambda: F.interpolate(_r(1, 2, 3, 4), scale_factor=2, mode="bilinear"),
    "local_response_norm": lambda: F.local_response_norm(_r(2, 5, 3, 3), 3),
    "normalize": lambda: F.normalize(_r(4, 3)),
    "prod_with_zeros": lambda: (_r(3, 4) * gradus.tensor(np.array([1.0, 0.0, 1.0, 1.0]))).prod(1),
    "backward_hook_module": lambda: _hooked_linear()(_r(3, 4)),
    "lstm_cell": lambda: F.lstm_cell(_r(2, 8), _r(2, 8, seed=1), _r(2, 2, seed=2)),
    "gru_cell": lambda: F.gru_cell(_r(2, 6), _r(2, 6, seed=1), _r(2, 2, seed=2)),
    "lstm_packed_bidirectional": lambda: _packed_lstm(),
    "sdpa_bool_mask_dropout": lambda: F.scaled_dot_product_attention(
        _r(2, 3, 4), _r(2, 5, 4, seed=1), _r(2, 5, 3, seed=2),
        attn_mask=gradus.tensor(np.arange(15).reshape(3, 5) % 3 != 1), dropout_p=0.3),
    "sdpa_float_mask": lambda: F.scaled_dot_product_attention(
        _r(2, 3, 4), _r(2, 5, 4, seed=1), _r(2, 5, 3, seed=2), attn_mask=_r(3, 5, seed=3)),
    "sdpa_fully_masked_row": lambda: F.scaled_dot_product_attention(
        _r(1, 4, 2), _r(1, 3, 2, seed=1), _r(1, 3, 2, seed=2),
        attn_mask=gradus.tensor(np.eye(4, 3, dtype=bool))),        # row 3 attends nothing: zeros
    "multihead_attention_weights": lambda: list(nn.MultiheadAttention(4, 2, dropout=0.2).double()(
        _r(3, 2, 4), _r(5, 2, 4, seed=1), _r(5, 2, 4, seed=2),
        key_padding_mask=gradus.tensor(np.array([[False] * 4 + [True], [False] * 5])))),
    "transformer": lambda: nn.Transformer(4, 2, 1, 1, 8, dropout=0.1).double()(
        _r(5, 2, 4), _r(3, 2, 4, seed=1), tgt_mask=nn.Transformer.generate_square_subsequent_mask(3)),
}


def _packed_lstm():
    from gradus.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

    lstm = nn.LSTM(3, 4, num_layers=2, bidirectional=True).double()
    out, (h, c) = lstm(pack_padded_sequence(_r(5, 3, 3), [2, 5, 3], enforce_sorted=False))
    return [pad_packed_sequence(out)[0], h, c]


def _hooked_linear():
    lin = nn.Linear(4, 2).double()
    lin.register_full_backward_hook(lambda m, gin, gout: None)
    return lin


@pytest.mark.parametrize("name", sorted(_FUSED))
def test_functional_op_frees_saved_state(name):
    before, after = _backward_and_check(_FUSED[name]())
    assert after == [], f"{name}: still held after backward: {after}"


# -- every model of the zoo ---------------------------------------------------------------------
_ZOO = {
    "lenet5": (lambda: models.lenet5(), (2, 1, 32, 32)),
    "lenet5_modern": (lambda: models.lenet5_modern(), (2, 1, 28, 28)),
    "alexnet_tiny": (lambda: models.alexnet_tiny(num_classes=4), (2, 3, 63, 63)),
    "vgg_tiny": (lambda: models.vgg_tiny(num_classes=4), (2, 1, 28, 28)),
    "nin_tiny": (lambda: models.nin_tiny(num_classes=4), (2, 3, 32, 32)),
    "googlenet_tiny_aux": (lambda: models.googlenet_tiny(num_classes=4, aux_logits=True), (2, 3, 32, 32)),
    "resnet_tiny": (lambda: models.resnet_tiny(num_classes=4), (2, 3, 16, 16)),
    "plain_tiny": (lambda: models.resnet_tiny(num_classes=4, residual=False), (2, 3, 16, 16)),
    "resnet_bottleneck": (
        lambda: models.ResNet(block="bottleneck", layers=(1, 1), widths=(4, 8), num_classes=4),
        (2, 3, 32, 32)),
    "mnist_mlp_bn_dropout": (lambda: models.mnist_mlp(dropout=0.2, batch_norm=True), (4, 784)),
    "mnist_dmlp": (lambda: models.mnist_dmlp(), (2, 784)),
    "xor_mlp": (lambda: models.xor_mlp(), (4, 2)),
    "spam_mlp": (lambda: models.spam_mlp(n_features=50), (4, 50)),
    "spiral_mlp": (lambda: models.spiral_mlp(), (4, 2)),
    "digits_mlp": (lambda: models.digits_mlp(), (4, 64)),
    "rnn_relu_2layer": (lambda: nn.RNN(3, 5, 2, nonlinearity="relu", dropout=0.3), (4, 2, 3)),
    "lstm_bidirectional": (lambda: nn.LSTM(3, 5, 2, bidirectional=True, batch_first=True), (2, 4, 3)),
    "gru": (lambda: nn.GRU(3, 5), (4, 2, 3)),
}


@pytest.mark.parametrize("name", sorted(_ZOO))
def test_zoo_model_frees_saved_state(name):
    make, shape = _ZOO[name]
    gradus.manual_seed(0)
    net = make()
    net.train()
    out = net(SeededInputs(0).tensor(*shape))
    if isinstance(out, tuple):                       # GoogLeNet's aux heads, RNNs' (output, states)
        flat = []
        for o in out:
            flat += list(o) if isinstance(o, tuple) else [o]
        out = [o for o in flat if o is not None]
    before, after = _backward_and_check(out)
    assert before, f"{name}: the walk found nothing saved before backward"
    assert after == [], f"{name}: still held after backward: {after[:10]}"


# ---------------------------------------------------------------------------------------------
# memory does not grow when the user keeps every loss
# ---------------------------------------------------------------------------------------------
def test_keeping_every_loss_does_not_pin_activations():
    """The issue's case: cross_entropy(BatchNorm1d(1000)(x)) with x (256, 1000) pinned ~2 MB a step."""
    gradus.manual_seed(0)
    net = nn.Sequential(nn.Linear(100, 1000), nn.BatchNorm1d(1000), nn.ReLU(), nn.Linear(1000, 10))
    opt = optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
    inputs = SeededInputs(0)
    X, y = inputs.tensor(256, 100), inputs.labels(256, num_classes=10)
    losses = []

    def step():
        loss = F.cross_entropy(net(X), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss)

    for _ in range(10):  # warm up: optimizer state, scratch buffers, caches
        step()
    tracemalloc.start()
    try:
        for _ in range(40):
            step()
        at_50, _ = tracemalloc.get_traced_memory()
        for _ in range(150):
            step()
        at_200, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    per_step = (at_200 - at_50) / 150
    # one step's activations are ~3 MB (two 256x1000 float32 arrays saved by BatchNorm and the loss
    # alone are 2 MB); what may remain per kept loss is a handful of small graph nodes
    assert per_step < 20_000, f"memory grows by {per_step:.0f} bytes per kept loss"
    assert len(losses) == 200
