"""The recipe runners: what ``gradus train`` runs for a recipe, one module per concern.

=================  ==========================================================================
module             holds
=================  ==========================================================================
``dispatch``       :func:`run_recipe` (``runner = "supervised"`` or ``"module:function"``),
                   :func:`default_out_dir`
``supervised``     :func:`run_supervised`: the generic Trainer loop, its checkpoint and plots
``build``          model, optimizer, scheduler and data of a recipe's config
``common``         helpers the runners share (config sections, ``predict_fn``, ``print_target``, ...)
``perceptron``     recipes ``perceptron-logic`` and ``adaline``
``textbook``       recipe ``mnist-textbook`` (Algorithm 4-1 by hand)
``overfitting``    recipe ``mnist-overfit-l2``
``xor``            recipe ``xor-mlp``
``spam``           recipe ``spam-mlp``
``depth``          recipe ``depth-plain-vs-residual``
=================  ==========================================================================

A custom runner is ``func(config, out_dir, *, progress=True) -> dict of metrics``, named in its
recipe as ``runner = "gradus.recipes.runners.<module>:<func>"``.
"""
from .build import build_data, build_model, build_optimizer, build_scheduler, supervised_parts
from .common import predict_fn, print_target
from .dispatch import default_out_dir, run_recipe
from .supervised import run_supervised, write_plots

__all__ = ["run_recipe", "run_supervised", "build_model", "build_optimizer", "build_scheduler",
           "build_data", "supervised_parts", "default_out_dir", "write_plots", "print_target", "predict_fn"]
