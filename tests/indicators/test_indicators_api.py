"""/api/v1/indicators/ (ISSUE 15 §4): the stored values, scoped per role by the access helper, paginated, with
their shown text, "—" reasons, basis and data cut-off; a bank sees its own rows and its group's median only."""

from decimal import Decimal

import pytest
from django.urls import reverse
from rest_framework.authtoken.models import Token

from indicators import indicators as ind
from indicators import selectors, services
from institutions.models import Institution
from tests.worlds import A_2021_12, A_2022_03, file_sheet

VALUES = "/api/v1/indicators/values/"


@pytest.fixture
def world(world):
    w = world
    # two more banks of 第1组 (5 large state banks) for a median of three
    p = w["periods"]
    for code, balance in (("CCB", "130"), ("BOC", "90")):
        inst = Institution.objects.get(code=code)
        file_sheet(inst, p[(2021, 12)], A_2021_12)
        file_sheet(inst, p[(2022, 3)], {**A_2022_03, "loan_balance": balance})
    services.refresh_now()
    return w


def api(client, users, who):
    token = Token.objects.create(user=users[who])
    client.defaults["HTTP_AUTHORIZATION"] = f"Token {token.key}"
    return client


def rows(client, **params) -> list[dict]:
    out, url, query = [], VALUES, {"limit": 1000, **params}
    while url:
        body = client.get(url, query).json()
        out += body["results"]
        url, query = body["next"], {}
    return out


def test_a_bank_sees_its_own_rows_and_its_groups_median_only(world, client, users):
    got = rows(api(client, users, "filer_a"), year=2022, month=3)
    assert got and {(r["scope_kind"], r["scope_key"]) for r in got} == {("institution", str(world["A"].pk))}
    balance = next(r for r in got if r["code"] == "loan_balance")
    assert (balance["value"], balance["text"], balance["scope_label"]) == (
        "110.0000000000",
        "110.00亿元",
        "工商银行",
    )
    # 第1组 median of ICBC 110, CCB 130, BOC 90 — the peers themselves never appear
    assert Decimal(balance["group_median"]) == Decimal("110") and balance["group_median_text"] == "110.00亿元"
    assert balance["data_cutoff"] is not None and balance["basis"] == ""


def test_a_median_of_fewer_than_three_peers_is_withheld(world, client, users):
    got = rows(api(client, users, "filer_b"), year=2022, month=3, code="loan_balance")
    assert [r["scope_key"] for r in got] == [str(world["B"].pk)]
    assert got[0]["group_median"] is None and got[0]["group_median_text"] == "—"  # 第3组: HBB alone


def test_an_officer_sees_the_jurisdictions_institutions_and_every_aggregate(world, client, users):
    got = rows(api(client, users, "officer_in"), year=2022, month=3, code="loan_growth_ytd")
    keys = {(r["scope_kind"], r["scope_key"]) for r in got}
    assert ("institution", str(world["A"].pk)) in keys and ("institution", str(world["B"].pk)) not in keys
    province = next(r for r in got if r["scope_kind"] == "province")
    assert province["basis"] == "4/24" and province["scope_label"] == "全省"
    stored = selectors.ValueTable.stored(selectors.Q(scope_kind="province", year=2022, month=3))
    assert province["text"] == ind.get("loan_growth_ytd").text(
        stored.get("province", "420000", 2022, 3, "loan_growth_ytd").value
    )
    outside = rows(api(client, users, "officer_out"), year=2022, month=3, code="loan_growth_ytd")
    assert outside and all(r["scope_kind"] != "institution" for r in outside)


def test_an_undefined_value_is_a_dash_with_its_reason(world, client, users):
    got = rows(api(client, users, "filer_b"), year=2022, month=3, code="loan_growth_yoy")
    assert got[0]["value"] is None and got[0]["text"] == "—"
    assert got[0]["reason"] == "2021年3月（上年同期）监测表未报送"


def test_values_are_paginated(world, client, users):
    client = api(client, users, "officer_branch")
    first = client.get(VALUES, {"limit": 5, "year": 2022}).json()
    assert len(first["results"]) == 5 and first["count"] > 5 and "offset=5" in first["next"]
    second = client.get(first["next"]).json()
    assert {r["code"] + r["scope_key"] for r in second["results"]}.isdisjoint(
        {r["code"] + r["scope_key"] for r in first["results"]}
    )


def test_pages_run_across_rows_stored_with_different_layouts(world, client, users):
    """A scope-month stored with another order of indicators (as before the refresh that follows a change of
    the registry) is paged with the others: every value once, in order, whatever the page size."""
    from indicators import storage

    storage.put(
        [
            storage.Stored("group", "G9", 2022, 12, code, Decimal("0.5"), "", 1, 5)
            for code in ("loan_growth_ytd", "credit_share")
        ]
    )
    client = api(client, users, "officer_branch")
    query = {"year": 2022, "month": 12, "scope_kind": "group"}
    whole = client.get(VALUES, {**query, "limit": 1000}).json()
    assert whole["count"] == len(whole["results"]) == 3 * len(ind.CODES) + 2
    seen, offset = [], 0
    while offset < whole["count"]:
        page = client.get(VALUES, {**query, "limit": 7, "offset": offset}).json()
        assert page["count"] == whole["count"]
        seen += page["results"]
        offset += 7
    assert seen == whole["results"]
    december = [r for r in seen if r["scope_key"] == "G9"]
    assert [(r["code"], r["value"]) for r in december] == [
        ("credit_share", "0.5000000000"),
        ("loan_growth_ytd", "0.5000000000"),
    ]


def test_bad_filters_are_a_400_in_the_error_shape(world, client, users):
    response = api(client, users, "filer_a").get(VALUES, {"month": 13, "code": "nope"})
    assert response.status_code == 400 and response.json()["error"]["code"] == "validation_error"


def test_anonymous_gets_401_and_the_definitions_list_every_indicator(world, client, users):
    assert client.get(VALUES).status_code == 401
    body = api(client, users, "filer_a").get(reverse("api-indicators")).json()
    assert [d["code"] for d in body] == list(ind.CODES)
    share = next(d for d in body if d["code"] == "credit_share")
    assert share["unit"] == "%" and share["share"] is True
