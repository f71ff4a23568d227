"""Module system: registration, hooks, error paths, state dicts, modes, conversion, containers."""
from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pytest

import gradus
from gradus import nn
from gradus.errors import ShapeError
from tests.helpers import SeededInputs


class Tiny(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Linear(3, 4)
        self.register_buffer("steps", gradus.zeros(1))
        self.w = nn.Parameter(gradus.ones(2))
        self.b = nn.Sequential(nn.ReLU(), nn.Linear(4, 2))

    def forward(self, x):
        return self.b(self.a(x))


def test_registration_order_and_lookup():
    m = Tiny()
    assert list(m._parameters) == ["w"] and list(m._modules) == ["a", "b"] and list(m._buffers) == ["steps"]
    assert [n for n, _ in m.named_parameters()] == ["w", "a.weight", "a.bias", "b.1.weight", "b.1.bias"]
    assert list(m.state_dict()) == ["w", "steps", "a.weight", "a.bias", "b.1.weight", "b.1.bias"]
    assert m.get_submodule("b.1") is m.b[1]
    assert m.get_parameter("b.1.bias") is m.b[1].bias
    with pytest.raises(AttributeError, match="no submodule `x`"):
        m.get_submodule("b.x")
    # reassigning a name moves it between kinds; deleting removes it everywhere
    m.a = nn.Parameter(gradus.zeros(1))
    assert "a" in m._parameters and "a" not in m._modules
    del m.a
    assert not hasattr(m, "a")
    with pytest.raises(TypeError, match="cannot assign 'Tensor' as parameter 'w'"):
        m.w = gradus.zeros(2)
    m.w = None
    assert "w" in m._parameters and m.w is None
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        m.nope  # noqa: B018
    with pytest.raises(KeyError, match="contain"):
        m.register_buffer("x.y", gradus.zeros(1))


def test_parameter_basics():
    p = nn.Parameter(gradus.tensor([1.0, 2.0]))
    assert p.requires_grad and isinstance(p, gradus.Tensor)
    assert repr(p) == "Parameter containing:\ntensor([1., 2.], requires_grad=True)"
    t = gradus.zeros(3)
    assert nn.Parameter(t).data is t.data  # shares memory
    assert not nn.Parameter(t, requires_grad=False).requires_grad
    assert type(p * 2) is gradus.Tensor  # ops on parameters give plain tensors


def test_shared_parameters_counted_once():
    lin = nn.Linear(2, 2)
    net = nn.Sequential(lin, nn.ReLU(), lin)
    assert len(list(net.parameters())) == 2
    assert [n for n, _ in net.named_parameters()] == ["0.weight", "0.bias"]
    assert list(net.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]


def test_an_error_that_names_its_module_is_not_prefixed_twice():
    class Picky(nn.Module):
        def forward(self, x):
            raise ValueError("Picky: x must be positive")

    with pytest.raises(ValueError, match=r"^Picky: x must be positive$"):
        Picky()(gradus.zeros(1))
    with pytest.raises(ValueError, match=r"^Sequential\.1 \(Picky\): x must be positive$"):
        nn.Sequential(nn.Identity(), Picky())(gradus.zeros(1))


def test_linear_shape_error_names_path_and_counts():
    net = nn.Sequential(nn.Linear(784, 100), nn.ReLU(), nn.Linear(10, 10))
    with pytest.raises(ShapeError) as e:
        net(gradus.zeros(2, 784))
    msg = str(e.value)
    assert "Sequential.2 (Linear)" in msg and "10 features" in msg and "got 100" in msg
    # nested containers give the full dotted path; the error type is unchanged (still a ValueError)
    outer = nn.Sequential(nn.Identity(), nn.Sequential(nn.Linear(3, 3), nn.Linear(4, 1)))
    with pytest.raises(ValueError, match=r"^Sequential\.1\.1 \(Linear\): expected input with 4 features"):
        outer(gradus.zeros(1, 3))
    # custom modules that call a grandchild directly still get the path
    m = Tiny()
    with pytest.raises(ShapeError, match=r"^Tiny\.a \(Linear\)"):
        m(gradus.zeros(1, 5))
    # a bare layer names itself
    with pytest.raises(ShapeError, match=r"^Linear: expected input with 3 features"):
        nn.Linear(3, 1)(gradus.zeros(2, 2))


def test_load_state_dict_strict_errors_list_keys_and_shapes():
    src = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 4))
    dst = nn.Sequential(nn.Linear(2, 5), nn.ReLU(), nn.Linear(5, 4), nn.Linear(4, 1))
    with pytest.raises(RuntimeError) as e:
        dst.load_state_dict(src.state_dict())
    msg = str(e.value)
    assert 'Missing key(s) in state_dict: "3.weight" (1, 4), "3.bias" (1,)' in msg
    assert "size mismatch for 0.weight: copying a param with shape (3, 2) from checkpoint, the shape in " \
           "current model is (5, 2)" in msg
    assert "size mismatch for 2.weight" in msg
    extra = dict(src.state_dict(), **{"9.weight": gradus.zeros(7, 7)})
    with pytest.raises(RuntimeError, match=r'Unexpected key\(s\) in state_dict: "9.weight" \(7, 7\)'):
        src.load_state_dict(extra)
    res = src.load_state_dict(extra, strict=False)
    assert res.unexpected_keys == ["9.weight"] and res.missing_keys == []
    with pytest.raises(RuntimeError, match="size mismatch"):  # shapes are checked even when not strict
        dst.load_state_dict(src.state_dict(), strict=False)


def test_state_dict_round_trip_in_place():
    a, b = Tiny(), Tiny()
    with gradus.no_grad():
        a.steps.fill_(7)
    w_obj, w_arr = b.a.weight, b.a.weight.data
    result = b.load_state_dict(a.state_dict())
    assert result == ([], [])
    assert b.a.weight is w_obj and b.a.weight.data is w_arr  # copied in place: optimizers keep references
    for (k, v), (k2, v2) in zip(a.state_dict().items(), b.state_dict().items()):
        assert k == k2 and np.array_equal(v.numpy(), v2.numpy())
    sd = a.state_dict()
    assert not sd["a.weight"].requires_grad and sd["a.weight"].data is a.a.weight.data  # detached, shared
    # NumPy arrays load too (safetensors gives arrays)
    b.load_state_dict({k: v.numpy() * 0 for k, v in sd.items()})
    assert not np.any(b.a.weight.numpy())


def test_non_persistent_buffers_and_to_dtype():
    m = nn.BatchNorm1d(3)
    m.register_buffer("tmp", gradus.zeros(2), persistent=False)
    assert "tmp" not in m.state_dict() and "tmp" in dict(m.named_buffers())
    w = m.weight
    m.double()
    assert m.weight is w and m.weight.dtype == gradus.float64 and m.running_mean.dtype == gradus.float64
    assert m.num_batches_tracked.dtype == gradus.int64  # integer buffers keep their dtype
    m.to(gradus.float32)
    assert m.weight.dtype == gradus.float32
    with pytest.raises(TypeError):
        m.to(gradus.int32)
    assert m.to("cpu") is m


def test_train_eval_per_module():
    net = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5), nn.Sequential(nn.BatchNorm1d(2)))
    assert all(m.training for m in net.modules())
    net.eval()
    assert not any(m.training for m in net.modules())
    net[2].train()
    assert net[2][0].training and not net[1].training and not net.training


def test_hooks():
    net = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    seen = []
    h1 = net[1].register_forward_hook(lambda m, args, out: seen.append(("fwd", tuple(out.shape))))
    h2 = net[0].register_forward_pre_hook(lambda m, args: (args[0] * 0,))
    h3 = net[2].register_forward_hook(lambda m, args, out: out * 0 + 1)
    y = net(gradus.ones(5, 3))
    assert seen == [("fwd", (5, 4))]
    assert np.all(y.numpy() == 1)
    for h in (h1, h2, h3):
        h.remove()
    y = net(gradus.ones(5, 3))
    assert len(seen) == 1 and not np.all(y.numpy() == 1)
    with net[1].register_forward_hook(lambda m, a, o: seen.append(1)):
        net(gradus.ones(1, 3))
    net(gradus.ones(1, 3))
    assert seen.count(1) == 1  # the handle as context manager removes the hook


def test_full_backward_hook():
    lin = nn.Linear(3, 2)
    calls = []

    def hook(m, grad_input, grad_output):
        calls.append(tuple(g.shape) if g is not None else None for g in grad_input)
        calls[-1] = (tuple(calls[-1]), tuple(tuple(g.shape) for g in grad_output))
        return None if grad_input[0] is None else (grad_input[0] * 0,)

    lin.register_full_backward_hook(hook)
    x = gradus.randn(4, 3, requires_grad=True)
    lin(x).sum().backward()
    assert calls == [(((4, 3),), ((4, 2),))]
    assert not np.any(x.grad.numpy())  # the hook replaced grad_input
    assert lin.weight.grad is not None
    # inputs that do not require grad: the hook still fires, with grad_input (None,)
    calls.clear()
    lin(gradus.randn(4, 3)).sum().backward()
    assert calls == [((None,), ((4, 2),))]


def test_apply_and_zero_grad():
    net = nn.Sequential(nn.Linear(2, 3), nn.Linear(3, 1))
    visited = []
    net.apply(lambda m: visited.append(type(m).__name__))
    assert visited == ["Linear", "Linear", "Sequential"]
    net.apply(lambda m: nn.init.zeros_(m.weight) if isinstance(m, nn.Linear) else None)
    assert not np.any(net[0].weight.numpy())


def test_sequential_and_lists():
    s = nn.Sequential(nn.Linear(1, 2), nn.ReLU(), nn.Linear(2, 3))
    assert len(s) == 3 and isinstance(s[-1], nn.Linear) and isinstance(s[1:], nn.Sequential)
    assert list(s[1:]._modules) == ["1", "2"]
    s.append(nn.Tanh())
    assert list(s._modules) == ["0", "1", "2", "3"]
    del s[1]
    assert list(s._modules) == ["0", "1", "2"] and isinstance(s[1], nn.Linear)
    s.insert(0, nn.Identity())
    assert isinstance(s[0], nn.Identity) and len(s) == 4
    assert [type(m).__name__ for m in s] == ["Identity", "Linear", "Linear", "Tanh"]
    with pytest.raises(IndexError):
        s[10]
    od = nn.Sequential(OrderedDict([("fc", nn.Linear(2, 2)), ("act", nn.ReLU())]))
    assert list(od.state_dict()) == ["fc.weight", "fc.bias"] and od.fc is od[0]
    ml = nn.ModuleList([nn.Linear(1, 1) for _ in range(3)])
    ml += [nn.ReLU()]
    assert len(ml) == 4 and len(list(ml.parameters())) == 6 and isinstance(ml[-1], nn.ReLU)
    md = nn.ModuleDict({"x": nn.Linear(1, 1)})
    md["y"] = nn.ReLU()
    assert list(md.keys()) == ["x", "y"] and "y" in md
    pl = nn.ParameterList([nn.Parameter(gradus.zeros(2)), gradus.ones(3)])
    assert isinstance(pl[1], nn.Parameter) and [n for n, _ in pl.named_parameters()] == ["0", "1"]
    pd = nn.ParameterDict({"a": nn.Parameter(gradus.zeros(1))})
    assert list(dict(pd.named_parameters())) == ["a"]


def test_summary_table():
    net = nn.Sequential(nn.Flatten(), nn.Linear(12, 5), nn.BatchNorm1d(5), nn.ReLU(), nn.Linear(5, 2))
    net[4].weight.requires_grad_(False)
    gradus.manual_seed(0)
    before = gradus.random.default_generator().random()
    gradus.manual_seed(0)
    s = nn.summary(net, (2, 3, 4))
    assert gradus.random.default_generator().random() == before  # the global stream is untouched
    assert s.total_params == 12 * 5 + 5 + 10 + 10 + 2 and s.trainable_params == s.total_params - 10
    assert [(r.path, r.output_shape, r.num_params) for r in s.rows] == [
        ("", (2, 2), 0), ("0", (2, 12), 0), ("1", (2, 5), 65), ("2", (2, 5), 10), ("3", (2, 5), 0),
        ("4", (2, 2), 12)]
    text = str(s)
    assert "1 (Linear)" in text and "Total params: 87" in text and "Non-trainable params: 10" in text
    assert net.training and not net._forward_hooks  # modes restored, hooks removed


def test_rbf_layer():
    from gradus.nn.rbf import _rbf_direct

    rbf = nn.RBF(6, 4)
    assert "weight" in rbf.state_dict() and not list(rbf.parameters())
    assert set(np.unique(rbf.weight.numpy())) <= {-1.0, 1.0}
    x = SeededInputs(0, np.float64).tensor(3, 6, requires_grad=True)
    rbf.double()
    np.testing.assert_allclose(rbf(x).numpy(), _rbf_direct(x, rbf.weight).numpy(), rtol=1e-12)
    t = nn.RBF(6, 4, trainable=True).double()
    assert [n for n, _ in t.named_parameters()] == ["weight"]
    assert gradus.autograd.gradcheck(lambda a, w: t.forward(a), [x, t.weight])
    y = t(x).sum()
    y.backward()
    W, X = t.weight.numpy(), x.numpy()
    np.testing.assert_allclose(t.weight.grad.numpy(), (2 * (W[None] - X[:, None])).sum(0), rtol=1e-12)
    assert repr(rbf) == "RBF(in_features=6, out_features=4, trainable=False)"
    with pytest.raises(ShapeError, match="RBF: expected input with 6 features"):
        rbf(gradus.zeros(2, 5))


def test_deepcopy_gives_an_independent_model():
    """Target networks (DQN) and EMA copies rely on copy.deepcopy."""
    import copy

    net = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 1))
    net(gradus.randn(5, 3)).sum().backward()
    twin = copy.deepcopy(net)
    assert twin[0].weight is not net[0].weight and isinstance(twin[0].weight, nn.Parameter)
    assert np.array_equal(twin[0].weight.numpy(), net[0].weight.numpy())
    twin.zero_grad()
    twin(gradus.randn(5, 3)).sum().backward()
    assert twin[0].weight.grad is not None
    with gradus.no_grad():
        twin[0].weight.fill_(0)
    assert np.any(net[0].weight.numpy())


def test_forward_kwargs_and_missing_forward():
    class KW(nn.Module):
        def forward(self, x, scale=1.0):
            return x * scale

    assert KW()(gradus.ones(2), scale=3.0).tolist() == [3.0, 3.0]
    with pytest.raises(NotImplementedError, match='missing the required "forward"'):
        nn.Module()(gradus.ones(1))
