"""optiad's version: a leaf module, so the kernel cache's keys (codegen/cache.py) can read it
without importing the package."""

__version__ = "0.1.0"
