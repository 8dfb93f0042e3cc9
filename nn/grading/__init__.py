"""Grading a learner's numbers for a network: exercises, worksheets and reports (``network``)."""
