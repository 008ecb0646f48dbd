"""Reading typed, pasted and workbook-cell input into Decimals (reporting.parsing) — no database."""

from decimal import Decimal

import pytest

from reporting.definitions import MONITORING_2022 as SHEET
from reporting.parsing import parse_value, parse_values, values_from_json, values_to_json

BALANCE = SHEET.field("loan_balance")  # 亿元, 4 decimals
BORROWERS = SHEET.field("borrowers")  # 户, integer
FTP = SHEET.field("ftp_discount_bp")  # BP, 2 decimals
RATE = SHEET.field("weighted_rate")  # %, 4 decimals


def ok(raw, fd=BALANCE) -> Decimal:
    value, problem = parse_value(raw, fd)
    assert problem is None, problem
    return value


def problem(raw, fd=BALANCE) -> str:
    value, message = parse_value(raw, fd, month=3)
    assert value is None
    assert message, f"{raw!r} should not parse"
    return message


@pytest.mark.parametrize(
    ("raw", "fd", "expected"),
    [
        ("123.45", BALANCE, "123.45"),
        ("１２３．４５", BALANCE, "123.45"),  # full-width digits and point
        ("1,234.5", BALANCE, "1234.5"),
        ("1，234.5", BALANCE, "1234.5"),  # full-width comma as thousands separator
        ("12,345,678", BORROWERS, "12345678"),
        ("  \u3000120.5\u3000 ", BALANCE, "120.5"),  # ideographic spaces
        ("\t7\n", BALANCE, "7"),
        ("+5", BALANCE, "5"),
        ("＋5", BALANCE, "5"),
        ("-3", BALANCE, "-3"),  # parses; E103 reports it
        ("\u22123", BALANCE, "-3"),  # typographic minus sign
        (".5", BALANCE, "0.5"),
        ("120.50", BALANCE, "120.5"),  # trailing zeros are not precision
        ("3.85%", RATE, "3.85"),
        ("3.85％", RATE, "3.85"),
        ("120亿元", BALANCE, "120"),
        ("120 亿元", BALANCE, "120"),
        ("120亿", BALANCE, "120"),
        ("3,456户", BORROWERS, "3456"),
        ("45BP", FTP, "45"),
        ("45bp", FTP, "45"),
        ("45 ＢＰ", FTP, "45"),
        ("45基点", FTP, "45"),
    ],
)
def test_forgiving_text_input_is_read(raw, fd, expected):
    value = ok(raw, fd)
    assert value == Decimal(expected)
    assert str(value) == expected


@pytest.mark.parametrize(
    ("raw", "fd", "expected"),
    [
        (123.45000000000002, BALANCE, "123.45"),
        (0.1 + 0.2, BALANCE, "0.3"),
        (3456.0, BORROWERS, "3456"),
        (4.35, RATE, "4.35"),
        (1e-12, BALANCE, "0"),
        (100, BALANCE, "100"),
        (Decimal("1E+2"), BALANCE, "100"),
        (Decimal("12.3400"), BALANCE, "12.34"),
    ],
)
def test_numbers_arrive_without_float_noise_or_exponent(raw, fd, expected):
    assert str(ok(raw, fd)) == expected


def test_float_keeps_enough_decimals_for_the_precision_rule_to_see_overprecise_input():
    # 4 decimals allowed; a 5th must survive so that E105 can report it, rather than be silently rounded
    assert ok(1.23456, BALANCE) == Decimal("1.23456")
    assert ok(3456.5, BORROWERS) == Decimal("3456.5")


@pytest.mark.parametrize("raw", [None, "", "   ", "\u3000\u3000", "\t"])
def test_blank_is_none_without_a_problem(raw):
    assert parse_value(raw, BALANCE) == (None, None)


@pytest.mark.parametrize("raw", ["0", 0, 0.0, "0.00", "-0", Decimal("0.000")])
def test_zero_is_zero_not_blank(raw):
    value = ok(raw)
    assert value is not None
    assert value == 0
    assert str(value) == "0"


@pytest.mark.parametrize(
    "raw",
    [
        "abc",
        "N/A",
        "--",
        "-",
        "—",
        "#DIV/0!",
        "#VALUE!",
        "=SUM(A1)",
        "=B5*2",
        "1,23",  # malformed thousands grouping: ambiguous, not guessed
        "12.3.4",
        "1e5",
        "五",
        "Infinity",
        "NaN",
        True,
        False,
        float("nan"),
        float("inf"),
        Decimal("NaN"),
        [1],
    ],
)
def test_garbage_is_not_numeric(raw):
    message = problem(raw)
    assert "不是数值" in message
    assert "“3月末普惠小微贷款余额”" in message


def test_not_numeric_message_quotes_the_input_and_names_the_unit():
    message = problem("N/A")
    assert "“N/A”" in message
    assert "亿元" in message


def test_wrong_unit_names_the_expected_unit():
    message = problem("5户", BALANCE)
    assert "单位为亿元" in message
    assert "“户”" in message
    assert "单位为户" in problem("30亿元", BORROWERS)
    assert "单位为BP" in problem("0.45%", FTP)
    assert "单位为%" in problem("45BP", RATE)


def test_ten_thousand_yuan_is_not_silently_taken_as_hundred_million():
    assert "单位为亿元" in problem("3500万元", BALANCE)


def test_absurdly_large_number_is_refused():
    assert "数值过大" in problem(1e300)
    assert "数值过大" in problem("1" * 25)


def test_parse_values_reports_e102_per_unreadable_field_with_location():
    raw = {"loan_balance": "abc", "credit_loan_balance": "30", "borrowers": "", "new_loans": 80.0}
    values, findings = parse_values(SHEET, raw, locate=lambda code: f"监测表!{SHEET.field(code).column}5")
    assert values["loan_balance"] is None
    assert values["credit_loan_balance"] == Decimal("30")
    assert values["new_loans"] == Decimal("80")
    assert values["borrowers"] is None  # blank: no parse finding, the required rule reports it
    assert values["weighted_rate"] is None  # missing key is a blank too
    assert set(values) == set(SHEET.codes)
    assert [(f.rule, f.severity, f.field, f.location) for f in findings] == [
        ("E102", "error", "loan_balance", "监测表!B5")
    ]
    assert findings[0].key == "E102:loan_balance"


def test_parse_values_labels_location_with_the_month_without_locate():
    _, findings = parse_values(SHEET, {"loan_balance": "N/A"}, month=6)
    assert findings[0].location == "6月末普惠小微贷款余额"
    assert findings[0].message.startswith("“6月末普惠小微贷款余额”")


def test_values_json_round_trip_is_plain_strings():
    values = {
        "loan_balance": Decimal("1234.50"),
        "borrowers": Decimal("1.2E+1"),
        "weighted_rate": Decimal("0.0001"),
        "fee_relief": None,
    }
    as_json = values_to_json(values)
    assert as_json == {
        "loan_balance": "1234.5",
        "borrowers": "12",
        "weighted_rate": "0.0001",
        "fee_relief": None,
    }
    back = values_from_json(as_json)
    assert back == {
        "loan_balance": Decimal("1234.5"),
        "borrowers": Decimal("12"),
        "weighted_rate": Decimal("0.0001"),
        "fee_relief": None,
    }
    assert values_to_json(back) == as_json


def test_values_from_json_accepts_blank_strings_and_numbers():
    assert values_from_json({"a": "", "b": 3, "c": 2.5, "d": "  "}) == {
        "a": None,
        "b": Decimal("3"),
        "c": Decimal("2.5"),
        "d": None,
    }
