"""``run_limited(code)``: run Python code in a fresh interpreter bounded in time and memory.

Costs that grow faster than their input are tested at a size where the quadratic (or cubic)
cost took minutes or ran out of memory and the linear cost takes seconds: the code runs in a
child process killed after ``seconds`` and refused more than ``megabytes`` of address space
(RLIMIT_AS), so a return to the old cost fails the test by a wide margin, with no timer that a
busy machine could make flaky.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_limited(code: str, seconds: float = 60.0, megabytes: int = 1024) -> str:
    """The standard output of ``code`` run by this Python with this checkout first on its
    path; the test fails if it runs longer than ``seconds``, needs more than ``megabytes`` of
    address space (a MemoryError) or fails otherwise."""
    try:
        import resource
    except ImportError:  # not on Windows
        pytest.skip("needs the resource module (RLIMIT_AS) to bound the memory")

    def limit() -> None:
        cap = megabytes * 2**20
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))

    env = {**os.environ, "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""),
           "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    try:
        run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             timeout=seconds, preexec_fn=limit, cwd=ROOT, env=env)
    except subprocess.TimeoutExpired:
        pytest.fail(f"still running after {seconds} s: a cost that grows faster than its input?")
    if run.returncode != 0:
        pytest.fail(f"exited with {run.returncode} (limits: {seconds} s, {megabytes} MB of "
                    f"address space):\n{run.stderr[-3000:]}")
    return run.stdout
