"""Drawings of a graph: DOT text (``graph``, with ``collapse`` for the groups of big graphs), its
renderers (``render``: Graphviz's ``dot``, or Graphviz in WebAssembly run by the browser,
``wasm``), the backward pass step by step (``steps``) and its player (``player``)."""
