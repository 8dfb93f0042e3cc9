"""Grading a learner's numbers for a network: the network problem, its keys, grading, worksheets
and exercises (``network``), and the textbook slips of the delta rule (``slips``). The report is
autograd's shared model (``autograd.teach.report``)."""
