"""``gradus.functional`` (also ``gradus.nn.functional``, conventionally imported as ``F``): the
stateless forms of every layer, loss and activation. Composed from primitives, a few fused where
measured (each fused op is tested against its composed twin)."""
from ..ops.elementwise import relu, sigmoid, tanh  # noqa: F401
from ..ops.indexing import one_hot  # noqa: F401
from ..ops.movement import pad  # noqa: F401
from .activation import *  # noqa: F401,F403
from .attention import *  # noqa: F401,F403
from .conv import *  # noqa: F401,F403
from .convnd import *  # noqa: F401,F403
from .dropout import *  # noqa: F401,F403
from .embedding import *  # noqa: F401,F403
from .linear import *  # noqa: F401,F403
from .loss import *  # noqa: F401,F403
from .norm import *  # noqa: F401,F403
from .patches import *  # noqa: F401,F403
from .pooling import *  # noqa: F401,F403
from .poolnd import *  # noqa: F401,F403
from .recurrent import *  # noqa: F401,F403
from .resample import *  # noqa: F401,F403
from .unpool import *  # noqa: F401,F403
