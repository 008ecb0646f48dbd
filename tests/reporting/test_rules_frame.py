"""The rules and the parser over frames (reporting.rules.validate_many, reporting.parsing.parse_many).

A bulk import checks thousands of returns as one frame; a web form checks one. Both run the same code, and
these properties hold them to it: a batch never says anything a return checked alone would not, whatever the
mix of editions, months, neighbours and peers — the per-rule tests in test_rules.py say what that is. And a
message is built only for a cell that fails.

Pure: no database. Derandomized with a fixed number of examples, so a run is reproducible and quick.
"""

import dataclasses
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reporting import parsing, rules
from reporting.definitions import CONTACTS_2022, definition_for, plan_definition

FRAMES = settings(
    max_examples=80,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

SHEET_2022 = definition_for("monitoring", 2022)
SHEET_2023 = definition_for("monitoring", 2023)
PLAN = plan_definition(2022)
T = SHEET_2022.thresholds

# Values on and either side of every threshold a rule compares with, and what no rule may use.
BOUNDARIES = [
    Decimal(x)
    for x in (
        "0",
        "-0",
        "-1",
        "0.0001",
        "0.00001",
        "0.5",
        "0.0485",
        "1",
        "1.5",
        "2.5",
        "3",
        "3.01",
        "100",
        "100.00001",
        "3456",
        "3456.5",
        "10000",
        "1000000",
        "1E+20",
        "12345678901234567890.1234567891",  # beyond the context's 28 digits
    )
]
THRESHOLDS = [
    T.rate_min,
    T.rate_max,
    T.ftp_max,
    T.ftp_percent_at_most,
    T.rate_fraction_below,
    T.max_per_borrower,
    T.write_off_share_max,
]
NUMBER = st.sampled_from(BOUNDARIES + THRESHOLDS) | st.decimals(
    min_value=-10, max_value=10**6, places=5, allow_nan=False, allow_infinity=False
)
# what a caller may hand over as "parsed": blanks, non-numbers, non-finite Decimals, ints, booleans
ODD = st.sampled_from([None, None, "abc", True, 7, Decimal("NaN"), Decimal("Infinity"), 1.5])
CELL = NUMBER | ODD
# last month as a multiple of this month: on the W403 / W605 / E301 boundaries and off them
FACTORS = [Decimal(x) for x in ("1", "0.7", "1.3", "0.69999", "1.30001", "0.0001", "10000", "29999", "2")]


def sheet_values(definition):
    """Every cell a number, or any cell anything."""
    return st.fixed_dictionaries({code: NUMBER for code in definition.codes}) | st.fixed_dictionaries(
        {code: CELL for code in definition.codes}
    )


@st.composite
def peer_pool(draw):
    """Two or three peer sets far apart, shared by the contexts that pick them (as a bulk import shares one
    per group and month): a row compared with the wrong set would be told something else."""
    stock = [f.code for f in SHEET_2023.fields if f.kind == "stock"]
    jitter = st.lists(st.integers(-3, 3), min_size=3, max_size=9)
    pool = []
    for _ in range(draw(st.integers(2, 3))):
        kind = draw(st.sampled_from([rules.PeerChanges, dict]))
        centre = draw(st.sampled_from([Decimal("-0.3"), Decimal("0"), Decimal("0.3")]))
        level = draw(st.sampled_from([Decimal("1"), Decimal("100"), Decimal("10000"), Decimal("1000000")]))
        changes = {code: [centre + Decimal(d) / 100 for d in draw(jitter)] for code in stock}
        levels = {code: [level * (1 + Decimal(d) / 100) for d in draw(jitter)] for code in SHEET_2023.codes}
        pool.append((kind(changes), kind(levels)))
    return pool


@st.composite
def sheet_context(draw, pool):
    year = draw(st.sampled_from([2022, 2023]))
    definition = definition_for("monitoring", year)
    values = draw(sheet_values(definition))
    previous = draw(
        st.none()
        | st.just({})
        | st.just(dict(values))  # W404
        | sheet_values(definition)
        | st.builds(
            lambda factors: {
                code: v * factors[i] if isinstance(v, Decimal) and v.is_finite() else v
                for i, (code, v) in enumerate(values.items())
            },
            st.lists(st.sampled_from(FACTORS), min_size=len(values), max_size=len(values)),
        )
    )
    changes, levels = draw(st.sampled_from(pool))
    return rules.Context(
        definition=definition,
        year=year,
        month=draw(st.sampled_from([1, 3])),  # few months: rows of one month share a frame
        values=values,
        previous=previous,
        last_year=draw(st.none() | sheet_values(definition)),
        group_changes=changes if draw(st.booleans()) else None,
        group_levels=levels if draw(st.booleans()) else None,
        locate=draw(st.sampled_from([None, lambda code: f"第3行 {code}"])),
        unparsed=frozenset(draw(st.lists(st.sampled_from(definition.codes), max_size=2))),
    )


@st.composite
def plan_context(draw):
    quarter = st.sampled_from([Decimal(x) for x in ("0", "2.5", "2.51", "-1", "10")]) | ODD
    if draw(st.booleans()):  # every region filled: the 全省 figures exist (W501, W502)
        quarter = st.sampled_from([Decimal("0"), Decimal("0.0005"), Decimal("0.6")])
    values = {code: draw(quarter) for code in PLAN.codes}
    march = draw(st.sampled_from([None, Decimal("100"), Decimal("110.2")]))
    december = draw(st.sampled_from([None, Decimal("90"), Decimal("100")]))
    return rules.Context(
        definition=PLAN,
        year=2022,
        month=None,
        values=values,
        related={"balance_march": march, "balance_prev_dec": december},
    )


@st.composite
def contacts_context(draw):
    text = st.sampled_from([None, "", "张三", "13912345678", "027-87654321", "a@b.cn", "bad", "x" * 120])
    return rules.Context(
        definition=CONTACTS_2022,
        year=2022,
        month=None,
        values={code: draw(text) for code in CONTACTS_2022.codes},
    )


@st.composite
def batches(draw):
    pool = draw(peer_pool())
    return draw(
        st.lists(
            sheet_context(pool) | sheet_context(pool) | plan_context() | contacts_context(),
            min_size=1,
            max_size=12,
        )
    )


@FRAMES
@given(contexts=batches())
def test_a_batch_finds_exactly_what_each_return_alone_finds(contexts):
    assert rules.validate_many(contexts) == [rules.validate_many([c])[0] for c in contexts]
    assert rules.validate_many(contexts) == [rules.validate(c) for c in contexts]


def _plausible(month: int = 3, **changes) -> rules.Context:
    values = {
        "loan_balance": Decimal("100"),
        "credit_loan_balance": Decimal("30"),
        "new_loans": Decimal("80"),
        "new_credit_loans": Decimal("25"),
        "borrowers": Decimal("3456"),
        "new_borrowers": Decimal("1200"),
        "first_loan_borrowers": Decimal("300"),
        "first_loan_amount": Decimal("10"),
        "ftp_discount_bp": Decimal("50"),
        "fee_relief": Decimal("1.2"),
        "weighted_rate": Decimal("4.85"),
    }
    previous = {**values, "loan_balance": Decimal("98"), "new_loans": Decimal("70")}
    return rules.Context(
        definition=SHEET_2022,
        year=2022,
        month=month,
        values={**values, **changes},
        previous=previous,
        locate=lambda code: f"{code}@row",
    )


def test_messages_are_built_only_for_the_cells_that_fail(monkeypatch):
    built: list[str] = []

    class CountedFinding(rules.Finding):
        def __init__(self, *args, **kwargs):
            built.append(kwargs.get("rule", args[0] if args else ""))
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(rules, "Finding", CountedFinding)
    contexts = [_plausible() for _ in range(300)]
    contexts[17] = _plausible(credit_loan_balance=Decimal("130"))  # E201, and W403 against last month's 30
    contexts[250] = _plausible(weighted_rate=Decimal("0.0485"))  # W401 and W603
    found = rules.validate_many(contexts)

    assert sorted(built) == ["E201", "W401", "W403", "W603"]
    assert [i for i, fs in enumerate(found) if fs] == [17, 250]
    assert [f.rule for f in found[250]] == ["W401", "W603"]
    assert found[17][0].location == "credit_loan_balance@row"
    assert "130 亿元" in found[17][0].message


def test_contexts_of_different_editions_and_months_are_checked_on_their_own_terms():
    january = _plausible(month=1, new_loans=Decimal("60"))  # below last month, but January restarts
    march = _plausible(month=3, new_loans=Decimal("60"))
    on_2023 = rules.Context(
        definition=SHEET_2023,
        year=2023,
        month=3,
        values={**_plausible().values, "total_loan_balance": Decimal("90"), "npl_write_offs": Decimal("1")},
    )
    found = rules.validate_many([january, march, on_2023])
    assert [f.rule for f in found[0]] == []
    assert [(f.rule, f.field) for f in found[1]] == [("E301", "new_loans")]
    assert [(f.rule, f.field) for f in found[2]] == [("E205", "loan_balance")]


def test_group_statistics_are_computed_once_per_peer_set(monkeypatch):
    calls: list[str] = []
    stats = rules.PeerChanges.stats

    def counted(self, code):
        calls.append(code)
        return stats(self, code)

    monkeypatch.setattr(rules.PeerChanges, "stats", counted)
    peers = rules.PeerChanges({"loan_balance": [Decimal("0.01")] * 3 + [Decimal("0.02")] * 3})
    contexts = [dataclasses.replace(_plausible(), group_changes=peers) for _ in range(50)]
    rules.validate_many(contexts)
    assert calls.count("loan_balance") == 1


# --- parsing ---------------------------------------------------------------------------------------------

FLOATS = st.floats() | st.sampled_from([0.1, 3456.0, -0.0, 1e-05, 1.5e16, 123.45000000000002, 0.1 + 0.2])
PARSE_CELL = st.one_of(
    st.none(),
    FLOATS,
    st.floats(min_value=-1e6, max_value=1e6),
    st.integers(min_value=-(10**21), max_value=10**21),
    st.booleans(),
    st.decimals(places=6, allow_nan=False) | st.sampled_from([Decimal("NaN"), Decimal("1E+30")]),
    st.sampled_from(["３１２.４５", "28,650", "4.98%", "55BP", "58.30亿元", "#DIV/0!", "", "12万元"]),
)


@FRAMES
@given(
    raws=st.lists(st.fixed_dictionaries({c: PARSE_CELL for c in SHEET_2023.codes}), min_size=1, max_size=8),
    month=st.integers(1, 12),
)
def test_parsing_a_batch_reads_every_cell_as_parse_value_reads_it_alone(raws, month):
    locates = [(lambda code, row=row: f"{code}{row}") for row in range(len(raws))]
    batch = parsing.parse_many(SHEET_2023, raws, locates=locates, month=month)
    assert batch == [parsing.parse_values(SHEET_2023, r, locates[i], month=month) for i, r in enumerate(raws)]
    for raw, (values, findings) in zip(raws, batch, strict=True):
        by_field = {f.field: f for f in findings}
        for fd in SHEET_2023.fields:
            value, problem = parsing.parse_value(raw[fd.code], fd, month=month)
            assert values[fd.code] == value and str(values[fd.code]) == str(value)
            assert (by_field[fd.code].message if fd.code in by_field else None) == problem
