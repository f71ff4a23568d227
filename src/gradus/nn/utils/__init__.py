"""nn utilities: gradient clipping, parameter vectors, variable-length sequences (``rnn``), weight
averaging (``swa_utils``: ``AveragedModel``, SWA and EMA), ``skip_init`` (build without initialising)."""
from . import rnn, swa_utils
from .clip_grad import clip_grad_norm_, clip_grad_value_, get_total_norm
from .convert_parameters import parameters_to_vector, vector_to_parameters
from .skip_init import skip_init

__all__ = ["clip_grad_norm_", "clip_grad_value_", "get_total_norm", "parameters_to_vector",
           "vector_to_parameters", "rnn", "swa_utils", "skip_init"]
