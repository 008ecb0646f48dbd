"""The registries are declared by keyword: every value says which field it fills, so a positional
declaration — where a swapped label and formula, or weight and kind, would still construct — is refused."""

from dataclasses import fields
from decimal import Decimal as D

import pytest

from evaluation import grading, reference
from indicators import indicators as ind
from indicators import presets
from reporting import rules


def _declared():
    scheme = reference.scheme_2021()
    qualitative = scheme.qualitative[0]
    return [
        ind.INDICATORS[0],
        ind.OFFSETS["start"],
        ind.DERIVED["rate_x_new"],
        scheme,
        qualitative,
        qualitative.criteria[0],
        reference.GRADING_2021,
        reference.ITEMS_2021[0],
        presets.PROVINCE_TARGETS_2022[0],
        rules.RULES[0],
    ]


@pytest.mark.parametrize("declared", _declared(), ids=lambda d: type(d).__name__)
def test_a_registry_entry_is_refused_positionally_and_rebuilt_by_keyword(declared):
    values = {f.name: getattr(declared, f.name) for f in fields(declared) if f.init}
    assert type(declared)(**values) == declared
    with pytest.raises(TypeError):
        type(declared)(*values.values())


def test_the_registries_hold_what_they_held():
    assert len(ind.INDICATORS) == 41 and ind.CODES[0] == "loan_balance" and ind.CODES[-1] == "ewr_reward"
    assert list(ind.OFFSETS) == ["", "start", "ly", "ly_start", "qstart"]
    assert [d.code for d in reference.ITEMS_2021] == [
        "authorization",
        "acceptance",
        "exemption",
        "growth_ytd",
        "growth_yoy",
    ]
    assert reference.GRADING_2021 == grading.GradingSpec(
        method=grading.RELATIVE_MEAN, thresholds=(D(5), D(0), D(-5))
    )
    assert len(presets.targets_2022()) == 12
