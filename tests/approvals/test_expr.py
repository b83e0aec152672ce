import pytest

from office.approvals.expr import ExpressionError, evaluate, parse


@pytest.mark.parametrize("src,fields,expected", [
    ("amount > 10000", {"amount": 20000}, True),
    ("amount > 10000", {"amount": 500}, False),
    ("amount > 10000", {}, False),
    ("amount >= 1 and amount <= 10", {"amount": 10}, True),
    ("not (a or b)", {"a": 0, "b": ""}, True),
    ("level == 'county'", {"level": "county"}, True),
    ("level in ('county', 'township')", {"level": "city"}, False),
    ("(a + b) * 2 - c / 4 > 4", {"a": 1, "b": 2, "c": 4}, True),
    ("amount > 100", {"amount": "150.5"}, True),
    ("1 < x < 3", {"x": 2}, True),
    ("-x < 0", {"x": 1}, True),
])
def test_evaluate(src, fields, expected):
    assert evaluate(src, fields) == expected


@pytest.mark.parametrize("src", [
    "__import__('os').system('id')", "x.__class__", "x[0]", "lambda: 1", "open('f')",
    "[i for i in x]", "_secret", "a if b else c", "x ** 99999", "f'{x}'",
])
def test_rejects_dangerous(src):
    with pytest.raises(ExpressionError):
        parse(src)


def test_runtime_errors_are_expression_errors():
    with pytest.raises(ExpressionError):
        evaluate("a / 0", {"a": 1})
    with pytest.raises(ExpressionError):
        evaluate("a + 1", {"a": "x"})
