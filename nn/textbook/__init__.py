"""The textbook delta rule as an independent oracle (``deltas``, which imports nothing from
autograd) and its comparison with the engine's gradients (``compare``)."""
