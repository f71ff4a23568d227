"""nn.utils.skip_init: a module built without initialising its weights draws nothing from the random
generator, loads real weights as usual, and leaves init working again afterwards (even after an error).
The from_pretrained loaders build with it; their tests (tests/models/test_gpt.py, test_bert.py, the MiniLM
oracle) check that every weight still comes from the file."""
import numpy as np
import pytest

import gradus
from gradus import nn
from gradus.nn.utils import skip_init


def test_skip_init_draws_nothing_and_loads_like_a_normal_module():
    gradus.manual_seed(0)
    ref = nn.Linear(8, 4)
    gradus.manual_seed(1)
    state = gradus.random.default_generator().bit_generator.state
    lin = skip_init(nn.Linear, 8, 4)
    assert gradus.random.default_generator().bit_generator.state == state, "no random draws"
    assert tuple(lin.weight.shape) == (4, 8) and lin.bias is not None
    lin.load_state_dict(ref.state_dict())
    x = gradus.randn(3, 8)
    np.testing.assert_array_equal(lin(x).numpy(), ref(x).numpy())
    # init works again afterwards: a plain Linear with the same seed draws the same weights
    gradus.manual_seed(0)
    np.testing.assert_array_equal(nn.Linear(8, 4).weight.numpy(), ref.weight.numpy())


def test_skip_init_restores_init_after_an_error_and_checks_its_argument():
    with pytest.raises(TypeError):
        skip_init(nn.Linear, 8)            # Linear's own error: a missing argument
    w = nn.Parameter(gradus.zeros(64, 64))
    nn.init.normal_(w)
    assert float(w.abs().sum()) > 0, "nn.init must work again after a failed skip_init"
    with pytest.raises(TypeError, match="skip_init: expected a gradus.nn.Module subclass"):
        skip_init(lambda: nn.Linear(2, 2))

