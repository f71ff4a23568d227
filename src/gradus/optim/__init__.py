"""Optimizers, learning-rate schedulers, gradient-free search and second-order methods."""
