"""Teaching tools: each edge's local derivative as a formula (``formulas``), the chain rule
written out (``explain``), a learner's own numbers checked (``handcheck``), worksheets
(``worksheet``) and the expression language of ``edgegrad draw`` (``expr``)."""
