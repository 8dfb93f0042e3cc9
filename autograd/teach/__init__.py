"""Teaching tools: each edge's local derivative as a formula (``formulas``), the chain rule
written out (``explain``), a learner's own numbers checked (``handcheck``, its diagnoses in
``diagnose``, its "did you mean" in ``suggest``), the report every checker of a learner's numbers
fills in (``report``: marks right, wrong or blank, as text and HTML), worksheets (``worksheet``)
and the expression language of ``edgegrad draw`` (``expr``)."""
