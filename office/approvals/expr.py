"""A small, safe expression evaluator for flow conditions (条件): never ``eval``.

Allowed: numbers, strings, True/False/None, field names, ``+ - * / %``, unary ``-``/``not``,
comparisons (``== != < <= > >= in not in``), ``and``/``or``, parentheses and tuple/list literals
for ``in``. Anything else (calls, attributes, subscripts, lambdas...) is rejected when parsed.
"""

from __future__ import annotations

import ast
import operator
from decimal import Decimal
from typing import Any

MAX_LENGTH = 500

_BINOPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
           ast.Div: operator.truediv, ast.Mod: operator.mod}
_CMPOPS = {ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
           ast.Gt: operator.gt, ast.GtE: operator.ge,
           ast.In: lambda a, b: a in b, ast.NotIn: lambda a, b: a not in b}
_NAMES = {"True": True, "False": False, "None": None, "true": True, "false": False}


class ExpressionError(ValueError):
    """The expression is not allowed or cannot be evaluated."""


def parse(source: str) -> ast.Expression:
    if not isinstance(source, str) or len(source) > MAX_LENGTH:
        raise ExpressionError("expression too long")
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(f"syntax error: {exc.msg}") from None
    for node in ast.walk(tree):
        if not isinstance(node, (ast.Expression, ast.BoolOp, ast.BinOp, ast.UnaryOp, ast.Compare,
                                 ast.Constant, ast.Name, ast.Load, ast.Tuple, ast.List,
                                 ast.And, ast.Or, ast.Not, ast.USub, ast.UAdd,
                                 *_BINOPS, *_CMPOPS)):
            raise ExpressionError(f"not allowed: {type(node).__name__}")
        if isinstance(node, ast.Constant) and not isinstance(node.value, (int, float, str, bool, type(None))):
            raise ExpressionError("constant type not allowed")
        if isinstance(node, ast.Name) and node.id.startswith("_"):
            raise ExpressionError("names may not start with _")
    return tree


def names(source: str) -> set[str]:
    return {n.id for n in ast.walk(parse(source)) if isinstance(n, ast.Name) and n.id not in _NAMES}


def evaluate(source: str, fields: dict[str, Any]) -> Any:
    """Evaluate ``source`` over ``fields``; unknown names are None."""
    return _eval(parse(source).body, fields)


def _num(v):
    if isinstance(v, Decimal):
        return float(v)
    if isinstance(v, str):
        try:
            return float(v) if any(c in v for c in ".eE") else int(v)
        except ValueError:
            return v
    return v


def _eval(node, fields):
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        if node.id in _NAMES:
            return _NAMES[node.id]
        return fields.get(node.id)
    if isinstance(node, (ast.Tuple, ast.List)):
        return tuple(_eval(e, fields) for e in node.elts)
    if isinstance(node, ast.BoolOp):
        if isinstance(node.op, ast.And):
            result = True
            for v in node.values:
                result = _eval(v, fields)
                if not result:
                    return result
            return result
        result = False
        for v in node.values:
            result = _eval(v, fields)
            if result:
                return result
        return result
    if isinstance(node, ast.UnaryOp):
        v = _eval(node.operand, fields)
        if isinstance(node.op, ast.Not):
            return not v
        v = _num(v)
        if not isinstance(v, (int, float)) or isinstance(v, bool):
            raise ExpressionError("unary minus on a non-number")
        return -v if isinstance(node.op, ast.USub) else v
    if isinstance(node, ast.BinOp):
        a, b = _num(_eval(node.left, fields)), _num(_eval(node.right, fields))
        if isinstance(node.op, ast.Add) and isinstance(a, str) and isinstance(b, str):
            if len(a) + len(b) > 10_000:
                raise ExpressionError("string too long")
            return a + b
        if not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in (a, b)):
            raise ExpressionError("arithmetic on a non-number")
        if abs(a) > 1e15 or abs(b) > 1e15:
            raise ExpressionError("number too large")
        try:
            return _BINOPS[type(node.op)](a, b)
        except ZeroDivisionError:
            raise ExpressionError("division by zero") from None
    if isinstance(node, ast.Compare):
        left = _eval(node.left, fields)
        for op, comp in zip(node.ops, node.comparators, strict=True):
            right = _eval(comp, fields)
            a, b = _num(left), _num(right)
            try:
                if isinstance(op, (ast.In, ast.NotIn)):
                    ok = _CMPOPS[type(op)](left, right if isinstance(right, (tuple, str)) else ())
                else:
                    if (a is None or b is None) and not isinstance(op, (ast.Eq, ast.NotEq)):
                        return False
                    ok = _CMPOPS[type(op)](a, b)
            except TypeError:
                raise ExpressionError("cannot compare those values") from None
            if not ok:
                return False
            left = right
        return True
    raise ExpressionError(f"not allowed: {type(node).__name__}")
