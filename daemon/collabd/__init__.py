"""collabd: the executive secretary (执行秘书) of cross-department collaboration, by email."""

__version__ = "0.1.0"
