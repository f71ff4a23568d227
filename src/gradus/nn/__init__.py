"""``gradus.nn``: modules with PyTorch's names, argument orders, defaults and state_dict keys."""
from .. import functional  # noqa: F401  (gradus.nn.functional, for PyTorch habits)
from . import init, utils  # noqa: F401
from .activation import *  # noqa: F401,F403
from .attention import *  # noqa: F401,F403
from .container import *  # noqa: F401,F403
from .conv import *  # noqa: F401,F403
from .dropout import *  # noqa: F401,F403
from .embedding import *  # noqa: F401,F403
from .linear import *  # noqa: F401,F403
from .locally_connected import *  # noqa: F401,F403
from .loss import *  # noqa: F401,F403
from .module import *  # noqa: F401,F403
from .norm import *  # noqa: F401,F403
from .pooling import *  # noqa: F401,F403
from .positional import *  # noqa: F401,F403
from .rbf import *  # noqa: F401,F403
from .rnn import *  # noqa: F401,F403
from .summary import ModelSummary, summary  # noqa: F401,E402  (the function shadows the submodule name)
from .transformer import *  # noqa: F401,F403
from .upsample import *  # noqa: F401,F403


def _alias_functional() -> None:
    # `import gradus.nn.functional as F` (PyTorch's spelling) finds the one functional module
    import sys

    sys.modules.setdefault(__name__ + ".functional", functional)


_alias_functional()
