"""An aggregate shown beyond the jurisdiction must not be one or two outside institutions' own figures: the
institution-kind columns of a kind with one or two members outside the viewer's jurisdiction (农村信用社 is
湖北省联社 alone) are left out of the dashboard, its export, the drill-down and the indicators API."""

import pytest
from django.urls import reverse
from rest_framework.authtoken.models import Token

from indicators import selectors, services
from institutions.models import Institution
from tests.worlds import A_2021_12, A_2022_03, file_sheet


@pytest.fixture
def world(world):
    w = world
    hbrcu = Institution.objects.get(code="HBRCU")  # the only 农村信用社, followed by 武汉分行
    file_sheet(hbrcu, w["periods"][(2021, 12)], A_2021_12)
    file_sheet(hbrcu, w["periods"][(2022, 3)], A_2022_03)
    services.refresh_now()
    return w


def test_kinds_with_one_or_two_members_outside_the_jurisdiction_are_the_revealing_ones(users):
    outside_everything = selectors.revealing_kinds(users["officer_out"])  # 宜昌 follows no provincial bank
    assert {"rural_credit", "private", "rural_commercial", "policy", "city_commercial"} <= outside_everything
    assert not {"large_state", "joint_stock"} & outside_everything  # 5 and 13 banks: a crowd
    assert selectors.revealing_kinds(users["officer_branch"]) == set()  # 武汉分行 follows all 24


def test_the_api_leaves_out_a_revealing_kind_and_keeps_the_others(world, client, users):
    token = Token.objects.create(user=users["officer_out"])
    client.defaults["HTTP_AUTHORIZATION"] = f"Token {token.key}"
    got = client.get(
        "/api/v1/indicators/values/", {"year": 2022, "month": 3, "scope_kind": "kind", "limit": 1000}
    )
    keys = {r["scope_key"] for r in got.json()["results"]}
    assert "rural_credit" not in keys and "large_state" in keys


def test_the_drill_down_of_a_revealing_kind_is_refused(world, client_for):
    url = reverse("indicators:explain")
    params = {"scope": "kind", "key": "rural_credit", "code": "loan_balance", "year": 2022, "month": 3}
    assert client_for("officer_out").get(url, params).status_code == 403
    assert client_for("officer_branch").get(url, params).status_code == 200


def test_the_dashboard_shows_the_kind_column_only_where_it_hides_in_a_crowd(world, client_for):
    url = reverse("indicators:dashboard")
    outside = client_for("officer_out").get(url, {"year": 2022, "month": 3}).content.decode()
    inside = client_for("officer_branch").get(url, {"year": 2022, "month": 3}).content.decode()
    assert "农村信用社</th>" in inside and "农村信用社</th>" not in outside
    assert "大型商业银行</th>" in outside
