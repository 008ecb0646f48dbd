"""The demo's 2023 half year on the 2023 edition: plausible 各项贷款 and write-off figures that obey the rules,
and 核销还原 computed from them; generated once."""

from decimal import Decimal

from indicators import indicators as ind
from indicators import selectors
from institutions.models import Institution
from reporting import rules
from reporting.definitions import MONITORING_2023
from reporting.demo import load_monthly_data
from reporting.demo_2023 import NO_WRITE_OFFS, load_2023_data
from reporting.models import Filing, FilingVersion


def test_the_2023_half_year_obeys_the_rules_and_loads_once(master, users):
    officer = users["officer_branch"]
    assert load_2023_data(officer=officer) == 24 * 6
    assert load_2023_data(officer=officer) == 0
    for version in FilingVersion.objects.filter(filing__period__year=2023).select_related("filing__period"):
        values = {k: Decimal(v) for k, v in version.values.items()}
        assert version.edition == "2023"
        assert values["loan_balance"] <= values["total_loan_balance"]
        ctx = rules.Context(
            definition=MONITORING_2023, year=2023, month=version.filing.period.month, values=values
        )
        assert not [f for f in rules.validate(ctx) if f.is_error]
    hkb = Institution.objects.get(code="HKB")
    assert {
        v
        for v in FilingVersion.objects.filter(filing__institution=hkb).values_list(
            "values__npl_write_offs", flat=True
        )
    } == {"0"}
    assert "HKB" in NO_WRITE_OFFS


def test_the_demo_shows_write_off_restored_growth_for_2023(master, users):
    load_monthly_data(first=(2022, 11), last=(2022, 12), officer=users["officer_branch"])
    load_2023_data(officer=users["officer_branch"])
    result = ind.compute(selectors.load_inputs(years=[2023], months=[(2023, 6)]))
    rows = result.institution_rows()
    restored = rows[(rows.code == "loan_increase_restored_ytd") & rows.value.notna()]
    plain = rows[(rows.code == "loan_increase_ytd") & rows.value.notna()].set_index("scope_key").value
    assert len(restored) == 15  # every bank whose 2022年12月 sheet is approved (9 are not, in the demo)
    assert all(r.value >= plain[r.scope_key] for r in restored.itertuples())
    assert Filing.objects.filter(period__year=2023).count() == 144
