"""Shared test settings: a modest, deterministic hypothesis profile (CI has 2 cores)."""

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "edgegrad",
    max_examples=int(os.environ.get("EDGEGRAD_EXAMPLES", "60")),
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("edgegrad")
