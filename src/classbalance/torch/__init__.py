"""PyTorch adapters: long-tail losses in :mod:`classbalance.torch.losses`.

Importing this package does not import PyTorch; its submodules do.
"""

__all__: list[str] = []
