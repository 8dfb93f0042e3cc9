"""A rule of the primitive table as an expression, for compiling it into Value's methods.

Calling ``p.forward`` and ``p.partials`` costs two Python calls per op, about a quarter of
building a node. Each rule in ``ops.py`` is a one-expression lambda, so its body can instead be
pasted into the method: ``inline(TANH.partials, ["m", "x", "y"])`` gives ``(1.0 - y * y,)``
with the lambda's parameters renamed to the method's locals and every backend function
``m.tanh`` bound to the float backend's own function. The rule is still the one written in
the table; nothing is derived by hand, and the source found for a rule is compiled again and
checked against the rule's bytecode before it is used. When a rule's source cannot be read back
(not a lambda, not the only lambda on its line, or changed since), the expression is the call.
"""

from __future__ import annotations

import ast
import builtins
import copy
import linecache
from collections.abc import Callable, Sequence
from types import CodeType
from typing import Any

COMPILED = "<autograd compiled: "
"""How the file names of code compiled from the table begin (tracebacks show it; anomaly
detection counts those frames as the engine's, not the user's)."""


def inline(rule: Callable[..., Any], args: Sequence[str], call: str, backend: Any,
           taken: set[str]) -> tuple[str, dict[str, Any]]:
    """``rule(*args)`` as expression source and the free names it needs bound.

    ``args[0]`` names the backend parameter ``m``. ``call`` is the fallback source (e.g.
    ``"p.partials(m, x, y)"``). Names in ``taken`` (the method's own locals) must not be
    captured by the rule's free names; if they would be, the call is used.
    """
    lam = _lambda_of(rule)
    if lam is None or len(lam.args.args) != len(args) or _has_extra_args(lam.args):
        return call, {}
    params = [a.arg for a in lam.args.args]
    rename = _Rename(params[0], dict(zip(params, args)))
    body = rename.visit(copy.deepcopy(lam.body))
    env: dict[str, Any] = {}
    for name, attr in rename.functions.items():  # m.tanh -> the backend's tanh, bound once
        fn = getattr(backend, attr, None)
        if fn is None:
            return call, {}
        env[name] = fn
    for node in ast.walk(body):
        if not isinstance(node, ast.Name) or node.id in args or node.id in env:
            continue
        if node.id in taken:
            return call, {}
        elif node.id in rule.__globals__:
            env[node.id] = rule.__globals__[node.id]
        elif hasattr(builtins, node.id):
            env[node.id] = getattr(builtins, node.id)
        else:
            return call, {}
    return ast.unparse(body), env


def _lambda_of(rule: Callable[..., Any]) -> ast.Lambda | None:
    """The lambda's syntax tree, if ``rule`` is the only lambda on its source line."""
    code = getattr(rule, "__code__", None)
    if code is None or code.co_name != "<lambda>" or rule.__closure__:
        return None
    for fresh in (False, True):  # the file may have changed since it was read: read it again
        if fresh:
            linecache.checkcache(code.co_filename)
            _LAMBDAS.pop(code.co_filename, None)
        found = _lambdas(code.co_filename).get(code.co_firstlineno, [])
        if len(found) == 1 and _compiles_to(found[0], code):
            return found[0]
    return None


def _compiles_to(lam: ast.Lambda, code: CodeType) -> bool:
    """Whether this source is the rule's own: compiled again, it gives the same bytecode."""
    expression = ast.fix_missing_locations(ast.Expression(body=copy.deepcopy(lam)))
    outer = compile(expression, code.co_filename, "eval")
    again = next(c for c in outer.co_consts if isinstance(c, CodeType))
    return (again.co_code, again.co_consts, again.co_names, again.co_varnames) == (
        code.co_code, code.co_consts, code.co_names, code.co_varnames)


_LAMBDAS: dict[str, dict[int, list[ast.Lambda]]] = {}


def _lambdas(filename: str) -> dict[int, list[ast.Lambda]]:
    """The lambdas of a source file by line, parsed once per file."""
    if filename not in _LAMBDAS:
        by_line: dict[int, list[ast.Lambda]] = {}
        try:
            tree = ast.parse("".join(linecache.getlines(filename)))
        except (SyntaxError, ValueError):
            tree = ast.Module(body=[], type_ignores=[])
        for node in ast.walk(tree):
            if isinstance(node, ast.Lambda):
                by_line.setdefault(node.lineno, []).append(node)
        _LAMBDAS[filename] = by_line
    return _LAMBDAS[filename]


def _has_extra_args(a: ast.arguments) -> bool:
    return bool(a.posonlyargs or a.vararg or a.kwonlyargs or a.kwarg or a.defaults)


class _Rename(ast.NodeTransformer):
    """Parameters to the method's locals; ``m.f`` to a name bound to the backend's ``f``."""

    def __init__(self, backend: str, renamed: dict[str, str]) -> None:
        self.backend = backend
        self.renamed = renamed
        self.functions: dict[str, str] = {}  # new name -> backend attribute

    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        if isinstance(node.value, ast.Name) and node.value.id == self.backend:
            name = f"_m_{node.attr}"
            self.functions[name] = node.attr
            return ast.copy_location(ast.Name(name, ast.Load()), node)
        return self.generic_visit(node)

    def visit_Name(self, node: ast.Name) -> ast.AST:
        new = self.renamed.get(node.id)
        return node if new is None else ast.copy_location(ast.Name(new, node.ctx), node)
