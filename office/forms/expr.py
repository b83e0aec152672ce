"""A small, safe expression language for computed fields and cross-field rules.

Expressions are Python syntax parsed with ``ast`` and evaluated by walking a whitelist of nodes:
numbers, element codes (names), + - * / // %, unary -, comparisons, and/or/not, ``a if c else b``
and the functions abs, min, max, round. Nothing else is accepted (no attributes, subscripts,
calls of anything else, lambdas, comprehensions): ``eval`` is never used.
"""

from __future__ import annotations

import ast
import operator
from functools import lru_cache

from flask_babel import gettext as _

from office.errors import ValidationError

_BIN = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
        ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod}
_CMP = {ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
        ast.Gt: operator.gt, ast.GtE: operator.ge}
_FUNCS = {"abs": abs, "min": min, "max": max, "round": round}
_ALLOWED = (ast.Expression, ast.BinOp, ast.UnaryOp, ast.Compare, ast.BoolOp, ast.Name, ast.Constant,
            ast.Call, ast.IfExp, ast.Load, ast.And, ast.Or, ast.Not, ast.USub, ast.UAdd,
            *_BIN, *_CMP)


class Missing(Exception):
    """A referenced value is empty: the expression has no value (rules are then skipped)."""


@lru_cache(maxsize=512)
def parse(expr: str) -> ast.Expression:
    if len(expr) > 500:
        raise ValidationError(_("The expression is too long."))
    try:
        tree = ast.parse(expr, mode="eval")
    except SyntaxError as exc:
        raise ValidationError(f"bad expression {expr!r}: {exc.msg}") from None
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED):
            raise ValidationError(f"bad expression {expr!r}: {type(node).__name__} is not allowed")
        if isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name) or node.func.id not in _FUNCS or node.keywords:
                raise ValidationError(f"bad expression {expr!r}: only abs, min, max, round may be called")
        if isinstance(node, ast.Constant) and not isinstance(node.value, int | float | bool):
            raise ValidationError(f"bad expression {expr!r}: only numbers are allowed")
    return tree


def names(expr: str) -> set[str]:
    tree = parse(expr)
    funcs = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and id(n) not in funcs}


def evaluate(expr: str, values: dict):
    """Value of ``expr`` with names from ``values``; None when a name is empty or on x/0."""
    try:
        return _eval(parse(expr).body, values)
    except (Missing, ZeroDivisionError):
        return None


def _eval(node, values):
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        if node.id not in values:
            raise ValidationError(f"unknown name {node.id}")
        v = values[node.id]
        if v is None:
            raise Missing(node.id)
        return v
    if isinstance(node, ast.BinOp):
        return _BIN[type(node.op)](_eval(node.left, values), _eval(node.right, values))
    if isinstance(node, ast.UnaryOp):
        v = _eval(node.operand, values)
        return not v if isinstance(node.op, ast.Not) else (-v if isinstance(node.op, ast.USub) else +v)
    if isinstance(node, ast.BoolOp):
        if isinstance(node.op, ast.And):
            return all(_eval(v, values) for v in node.values)
        return any(_eval(v, values) for v in node.values)
    if isinstance(node, ast.Compare):
        left = _eval(node.left, values)
        for op, comp in zip(node.ops, node.comparators, strict=True):
            right = _eval(comp, values)
            if isinstance(left, float) or isinstance(right, float):
                ok = abs(left - right) < 1e-9 if isinstance(op, ast.Eq) else _CMP[type(op)](left, right)
            else:
                ok = _CMP[type(op)](left, right)
            if not ok:
                return False
            left = right
        return True
    if isinstance(node, ast.IfExp):
        return _eval(node.body, values) if _eval(node.test, values) else _eval(node.orelse, values)
    if isinstance(node, ast.Call):
        return _FUNCS[node.func.id](*[_eval(a, values) for a in node.args])
    raise ValidationError(f"{type(node).__name__} is not allowed")  # pragma: no cover
