"""Parameter initialisation (PyTorch names)."""
