"""Watching a network learn: ``health`` (each layer's statistics over the data, with
warnings), ``live`` (the figure ``fit(live=True)`` updates in a notebook) and ``animate``
(a training run as a GIF or an HTML player). ``nn.health`` is ``nn.watch.health.health``."""
