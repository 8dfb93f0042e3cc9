"""Files in and out: every output file is written by ``atomic_write`` (``atomic``)."""

from .atomic import atomic_write

__all__ = ["atomic_write"]
