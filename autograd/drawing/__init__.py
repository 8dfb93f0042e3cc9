"""Drawings of a graph: DOT text and its renderers (``graph``), the backward pass step by step
(``steps``) and its player (``player``)."""
