"""edgegrad's neural-network library, built on the public API of its ``autograd`` engine."""

from ._guard import check_engine

check_engine()
