"""Training: the loop, callbacks, metrics and checkpoints."""
