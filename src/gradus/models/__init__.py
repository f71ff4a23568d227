"""The model zoo: one readable file per family, a config dataclass, shape comments, presets."""
from .alexnet import *  # noqa: F401,F403
from .bert import *  # noqa: F401,F403
from .captioner import *  # noqa: F401,F403
from .char_rnn import *  # noqa: F401,F403
from .gan import *  # noqa: F401,F403
from .googlenet import *  # noqa: F401,F403
from .gpt import *  # noqa: F401,F403
from .lenet import *  # noqa: F401,F403
from .mlp import *  # noqa: F401,F403
from .nin import *  # noqa: F401,F403
from .perceptron import *  # noqa: F401,F403
from .resnet import *  # noqa: F401,F403
from .sentence_encoder import *  # noqa: F401,F403
from .seq2seq import *  # noqa: F401,F403
from .sequence import *  # noqa: F401,F403
from .tagger import *  # noqa: F401,F403
from .vgg import *  # noqa: F401,F403
