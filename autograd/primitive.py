"""What one entry of the primitive table is: an op's forward, local partials and valid domain.

``ops.py`` declares the entries; this module only says what an entry holds and how its rules are
called whatever the op's arity. The rules' signatures are stated in ``ops.py``'s docstring.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

Rule = Callable[..., Any]


@dataclass(frozen=True, eq=False)  # compared and hashed by identity: each primitive is one object
class Primitive:
    """One differentiable operation: its name, forward, local partials and valid domain.

    Frozen: the table is read by every path (eager, tape, higher-order, forward mode), so a
    variant (a deliberately wrong derivative in a test) is a new Primitive made with
    ``dataclasses.replace`` and applied with ``autograd.apply``; the table itself never changes.
    """

    name: str
    arity: int  # 1, 2, 3, or -1 for any number of operands
    forward: Rule
    partials: Rule
    domain: str = "all real numbers"
    valid: Callable[..., bool] | None = None  # operands (and parameter) -> inside the domain?
    param: str | None = None  # the name of a static parameter, e.g. "exponent"
    symbol: str | None = None  # infix symbol for drawings and traces ("+", "*", ...)
    checked: bool = False  # eager must test ``valid`` itself: the float forward would not raise
    doc: str = ""  # the one-line math, e.g. "e^x" (the docstring of the Value method)
    methods: tuple[str, ...] = ()  # Value's methods for it; a binary op's second is reflected
    default: float | None = None  # the static parameter's default in the Value method
    formulas: tuple[str, ...] = ()
    """The local derivatives as text for people, one per operand (an n-ary op: one for all), in
    the rule's names (x, x1, x2, x3, y, c), the backends' function names and ``pi``, in Python
    syntax: tanh's is "1 - y**2". A test evaluates each against the partials rule, so the two
    cannot drift apart."""
    divides_by_zero: Callable[..., bool] | None = None
    """Operands (then the parameter) at which the op would divide by zero (x / 0, 0 ** -1):
    there its DomainError is also a ZeroDivisionError, as Python's own ``1 / 0.0``."""

    def inside(self, *operands: Any) -> bool:
        """Whether these operands (then the parameter, if any) are inside the domain."""
        return self.valid is None or self.valid(*operands)

    @property
    def display(self) -> str:
        """The short text drawings put on this op's node."""
        return self.symbol or self.name

    def run_forward(self, m: Any, operands: Sequence[Any], param: Any = None) -> Any:
        """``forward`` with the operands as one sequence, whatever the arity (module doc)."""
        if self.arity == -1:
            return self.forward(m, operands)
        if self.param is not None:
            return self.forward(m, operands[0], param)
        return self.forward(m, *operands)

    def run_partials(self, m: Any, operands: Sequence[Any], y: Any, param: Any = None) -> Any:
        """``partials`` with the operands as one sequence, whatever the arity."""
        if self.arity == -1:
            return self.partials(m, operands, y)
        if self.param is not None:
            return self.partials(m, operands[0], y, param)
        return self.partials(m, *operands, y)
