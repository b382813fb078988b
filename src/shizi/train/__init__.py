"""Training side of shizi (PyTorch). The runtime never imports this package."""
