"""Training on the compiled tape: a model's loss traced once and replayed over the batch
(``trainer``)."""
