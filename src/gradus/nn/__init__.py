"""``gradus.nn``: modules with PyTorch's names, argument orders, defaults and state_dict keys."""
from .. import functional  # noqa: F401  (gradus.nn.functional, for PyTorch habits)
from . import init, utils  # noqa: F401
from .module import *  # noqa: F401,F403
from .container import *  # noqa: F401,F403
from .linear import *  # noqa: F401,F403
from .activation import *  # noqa: F401,F403
from .dropout import *  # noqa: F401,F403
from .norm import *  # noqa: F401,F403
from .embedding import *  # noqa: F401,F403
from .loss import *  # noqa: F401,F403
from .conv import *  # noqa: F401,F403
from .pooling import *  # noqa: F401,F403
from .locally_connected import *  # noqa: F401,F403
from .rbf import *  # noqa: F401,F403
