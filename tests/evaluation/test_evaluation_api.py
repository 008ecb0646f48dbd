"""/api/v1/evaluations/: the same services and the same access as the pages, documented in the OpenAPI schema."""

from decimal import Decimal as D

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from evaluation import services
from evaluation.models import QualitativeScore
from tests.worlds import CSV


@pytest.fixture
def api(users):
    def as_(name):
        client = APIClient()
        client.force_authenticate(users[name])
        return client

    return as_


def test_results_for_officers_and_a_bank_s_own_row(master, users, api):
    evaluation = services.load_reference(path=CSV)
    data = api("officer_branch").get(f"/api/v1/evaluations/{evaluation.pk}/results/").json()
    assert data["live"] is False and len(data["rows"]) == 24
    citic = next(r for r in data["rows"] if r["name"] == "中信银行")
    assert (
        citic["total"] == "76.58"
        and citic["total_unrounded"] == "76.577500000000"
        and citic["grade"] == "良好"
    )
    assert [i["code"] for i in data["items"]] == [
        "authorization",
        "acceptance",
        "exemption",
        "growth_ytd",
        "growth_yoy",
    ]
    mine = api("filer_b").get(f"/api/v1/evaluations/{evaluation.pk}/results/").json()
    assert [r["name"] for r in mine["rows"]] == ["湖北银行"] and mine["rows"][0]["grade"] == "优秀"
    assert api("officer_out").get(f"/api/v1/evaluations/{evaluation.pk}/results/").status_code == 404


def test_a_bank_gets_no_results_before_publication(master, users, api):
    draft = services.create_evaluation(actor=users["pboc_admin"], year=2022, jurisdiction=master["branch"])
    response = api("filer_a").get(f"/api/v1/evaluations/{draft.pk}/results/")
    assert response.status_code == 404 and response.json()["error"]["message"] == "评估结果发布后方可查看。"
    assert [e["id"] for e in api("filer_a").get("/api/v1/evaluations/").json()] == [draft.pk]


def test_scoring_through_the_api_with_bounds_and_optimistic_locking(master, users, api):
    draft = services.create_evaluation(actor=users["pboc_admin"], year=2022, jurisdiction=master["branch"])
    url = f"/api/v1/evaluations/{draft.pk}/institutions/{master['A'].pk}/scores/exemption/"
    officer = api("officer_in")
    response = officer.put(
        url, {"value": "18.5", "comment": "免责情形明确", "lock_version": 0}, format="json"
    )
    assert response.status_code == 200 and response.json()["lock_version"] == 1
    response = officer.put(url, {"value": "21", "lock_version": 1}, format="json")
    assert response.status_code == 400 and "超出范围：应在 0 到 20 分" in response.json()["error"]["message"]
    response = api("officer_branch").put(url, {"value": "10", "lock_version": 0}, format="json")
    assert response.status_code == 409 and response.json()["error"]["code"] == "conflict"
    assert api("filer_a").put(url, {"value": "20"}, format="json").status_code == 403
    assert (
        api("officer_in")
        .put(
            f"/api/v1/evaluations/{draft.pk}/institutions/{master['B'].pk}/scores/exemption/",
            {"value": "1"},
            format="json",
        )
        .status_code
        == 404
    )
    assert QualitativeScore.objects.get().value == D("18.5")


def test_the_schema_documents_the_evaluation_endpoints(tmp_path, db):
    target = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    schema = target.read_text(encoding="utf-8")
    for path in (
        "/api/v1/evaluations/",
        "/api/v1/evaluations/{id}/results/",
        "/api/v1/evaluations/{id}/institutions/{institution_id}/scores/{item_code}/",
    ):
        assert path in schema
    assert "四张清单评估" in schema and "定性评分" in schema
