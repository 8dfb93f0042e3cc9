"""Write Value's arithmetic methods from the primitive table (``make generate``).

Each primitive in ``autograd/ops.py`` that names Value methods (``methods=("tanh",)``) gets them
written into ``autograd/value.py``, between the BEGIN/END GENERATED markers, with its rules'
own expressions: ``tanh``'s method computes ``m.tanh(x)`` and records ``1.0 - y * y`` on its
edge, because that is what ``TANH``'s forward and partials say. The table stays the one place a
derivative is written; this file only copies it into plain Python that grep, a debugger,
coverage and tracebacks all see. ``tests/test_generated.py`` fails when value.py is stale.

    python tools/generate_methods.py          # rewrite the block in autograd/value.py
    python tools/generate_methods.py --check  # exit 1 if the block is out of date
"""

from __future__ import annotations

import argparse
import ast
import builtins
import importlib.util
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OPS = ROOT / "autograd" / "ops.py"
VALUE = ROOT / "autograd" / "value.py"
BEGIN = "    # BEGIN GENERATED METHODS"
END = "    # END GENERATED METHODS"
HEADER = (f"{BEGIN}: written by `make generate` (tools/generate_methods.py) from the\n"
          "    # rules in autograd/ops.py. Edit the table, not these lines.\n")

# The parameter names every rule uses, by kind (ops.py's docstring); the methods use the same.
SIGNATURES = {
    "unary": (["m", "x"], ["m", "x", "y"]),
    "param": (["m", "x", "c"], ["m", "x", "y", "c"]),
    "binary": (["m", "x1", "x2"], ["m", "x1", "x2", "y"]),
}


class RuleError(Exception):
    """A rule that cannot be copied into a method (the message says how to write it)."""


def _rules(source: str) -> dict[str, dict[str, ast.Lambda]]:
    """Each ``NAME = Primitive(...)`` of ops.py: its keyword lambdas (forward, partials...)."""
    found: dict[str, dict[str, ast.Lambda]] = {}
    for node in ast.parse(source).body:
        if (isinstance(node, ast.Assign) and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name) and isinstance(node.value, ast.Call)
                and isinstance(node.value.func, ast.Name) and node.value.func.id == "Primitive"):
            found[node.targets[0].id] = {kw.arg: kw.value for kw in node.value.keywords
                                         if kw.arg and isinstance(kw.value, ast.Lambda)}
    return found


def _expression(var: str, rule: str, lam: ast.Lambda, expected: list[str]) -> ast.expr:
    params = [a.arg for a in lam.args.args]
    if params != expected:
        raise RuleError(f"{var}.{rule} takes ({', '.join(params)}); write it as "
                        f"lambda {', '.join(expected)}: ... (ops.py's docstring)")
    allowed = set(params) | {"math"}
    for node in ast.walk(lam.body):
        if (isinstance(node, ast.Name) and node.id not in allowed
                and not hasattr(builtins, node.id)):
            raise RuleError(f"{var}.{rule} uses {node.id!r}; a rule may use only its parameters, "
                            f"the backend m, math and builtins, so that it can be copied")
    return lam.body


def _partials(var: str, lam: ast.Lambda, expected: list[str], arity: int) -> list[str]:
    body = _expression(var, "partials", lam, expected)
    if not isinstance(body, ast.Tuple) or len(body.elts) != arity:
        raise RuleError(f"{var}.partials must be a tuple literal of {arity} expression(s), one "
                        f"local derivative per operand")
    return [ast.unparse(e) for e in body.elts]


def _may_divide(expressions: list[str]) -> bool:
    """Whether a partial can raise ZeroDivisionError or OverflowError (then the method
    evaluates it again with IEEE arithmetic, which gives inf)."""
    return any(isinstance(n, (ast.Div, ast.Pow, ast.FloorDiv, ast.Mod))
               for e in expressions for n in ast.walk(ast.parse(e)))


def _method(var: str, p: Any, rules: dict[str, ast.Lambda], name: str,
            reflected: bool) -> list[str]:
    kind = "binary" if p.arity == 2 else ("param" if p.param else "unary")
    fwd_args, part_args = SIGNATURES[kind]
    forward = ast.unparse(_expression(var, "forward", rules["forward"], fwd_args))
    partials = _partials(var, rules["partials"], part_args, 2 if kind == "binary" else 1)
    operands = "(a, b)" if kind == "binary" else "(self,)"
    extra = ", c" if kind == "param" else ""
    doc = p.doc
    if reflected:
        doc = f"{doc.rstrip('.')}, x1 a number on the left."
    lines: list[str] = []
    if kind == "binary":
        lines += [f"def {name}(self, other: Operand) -> Value:", f'    """{doc}"""']
        # An operator gives Python the chance to try the other operand; a method just refuses.
        refuse = (["        return NotImplemented"] if name.startswith("__")
                  else [f"        raise TypeError(f\"{name}: expected a Value or a real number; \"",
                        "                        f\"got {type(other).__name__}\")"])
        if reflected:
            lines += ["    a = _operand(other)  # not a Value: Value's own method went first",
                      "    if a is None:", *refuse, "    b = self"]
        else:
            lines += ["    a = self", "    b = other if type(other) is Value else _operand(other)",
                      "    if b is None:", *refuse]
        lines += ["    x1 = a.data", "    x2 = b.data"]
        names = ["da", "db"]
        edges = "a, da, b, db"
    else:
        if kind == "param":
            default = "" if p.default is None else f" = {p.default!r}"
            lines += [f"def {name}(self, {p.param}: float{default}) -> Value:", f'    """{doc}"""',
                      "    x = self.data", f"    c = float({p.param})"]
        else:
            lines += [f"def {name}(self) -> Value:", f'    """{doc}"""', "    x = self.data"]
        names = ["d"]
        edges = "self, d"
    if p.checked:
        valid_args = "x1, x2" if kind == "binary" else ("x, c" if kind == "param" else "x")
        lines += [f"    if not ops.{var}.inside({valid_args}):",
                  f"        raise domain_error(ops.{var}, {operands}{extra})"]
    lines += ["    try:", f"        y = {forward}", "    except (ValueError, ArithmeticError):",
              f"        raise domain_error(ops.{var}, {operands}{extra}) from None"]
    assign = [f"{n} = {e}" for n, e in zip(names, partials)]
    if _may_divide(partials):
        lines += ["    try:"] + [f"        {a}" for a in assign]
        lines += ["    except (ZeroDivisionError, OverflowError):  # inf: sqrt'(0), 2.0 ** 1e4",
                  f"        {', '.join(names)}{',' if len(names) == 1 else ''} = "
                  f"ieee_partials(ops.{var}.partials, {', '.join(part_args[1:])})"]
    else:
        lines += [f"    {a}" for a in assign]
    arg = "c" if kind == "param" else "None"
    lines.append(f"    return _node({p.name!r}, y, {arg}, {edges})")
    return lines


def generate() -> str:
    """The block of generated methods, markers included."""
    ops = _load_ops()
    rules = _rules(OPS.read_text(encoding="utf-8"))
    out = [HEADER]
    for var, found in rules.items():
        p = getattr(ops, var)
        for i, name in enumerate(p.methods):
            out.append("\n")
            lines = _method(var, p, found, name, reflected=(p.arity == 2 and i == 1))
            out += [f"    {line}\n" for line in lines]
    out.append(f"\n{END}\n")
    return "".join(out)


def _load_ops() -> Any:
    """autograd/ops.py as a module of its own: it needs only the standard library, and importing
    the package would run value.py, the file being written."""
    spec = importlib.util.spec_from_file_location("_edgegrad_ops", OPS)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _split(text: str) -> tuple[str, str, str]:
    start = text.index(BEGIN)
    end = text.index(END, start)
    end = text.index("\n", end) + 1
    return text[:start], text[start:end], text[end:]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="exit 1 if value.py is out of date")
    args = ap.parse_args(argv)
    text = VALUE.read_text(encoding="utf-8")
    before, block, after = _split(text)
    new = generate()
    if args.check:
        if block != new:
            print("autograd/value.py is out of date with autograd/ops.py: run `make generate`")
            return 1
        return 0
    if block != new:
        VALUE.write_text(before + new + after, encoding="utf-8")
        print("rewrote the generated methods in autograd/value.py")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
