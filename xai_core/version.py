"""The version of xai_core, in a module of its own so that low layers (the cache keys) can read it
without importing the package root, which imports every layer."""

__version__ = "0.1.0"
