"""Pictures: the computational graph (``viz.graph``, DOT text, no Graphviz needed) and training /
model plots (``viz.plots``, matplotlib with the Agg backend)."""
import importlib


def __getattr__(name):
    if name in ("graph", "plots"):
        return importlib.import_module(f".{name}", __name__)
    try:
        return getattr(importlib.import_module(".plots", __name__), name)
    except (ImportError, AttributeError):
        raise AttributeError(f"module 'gradus.viz' has no attribute {name!r}") from None
