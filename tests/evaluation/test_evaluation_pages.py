"""The evaluation's pages: what each role sees, forms that go through the services, bounded queries."""

from decimal import Decimal as D

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from audit.models import AuditEntry
from evaluation import services
from evaluation.models import Evidence, QualitativeScore
from reporting.demo import demo_pdf
from tests.worlds import CSV, put_indicators, score_all


@pytest.fixture
def draft(master, users):
    return services.create_evaluation(actor=users["pboc_admin"], year=2022, jurisdiction=master["branch"])


def html(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def test_the_list_shows_each_role_its_evaluations(draft, client_for):
    assert draft.title in html(client_for("pboc_admin").get(reverse("evaluation:list")))
    assert "新建年度评估" in html(client_for("pboc_admin").get(reverse("evaluation:list")))
    assert draft.title in html(client_for("filer_a").get(reverse("evaluation:list")))
    page = html(client_for("officer_out").get(reverse("evaluation:list")))
    assert draft.title not in page and "暂无评估" in page


def test_the_overview_lists_what_stops_publishing(draft, client_for):
    page = html(client_for("pboc_admin").get(reverse("evaluation:detail", args=[draft.pk])))
    assert "发布前待办" in page and "定量项目尚未取数" in page
    assert "工商银行的“授权、授信清单”尚未评分" in page
    assert 'id="publish"' in page and "disabled" in page[page.index('id="publish"') :][:120]


def test_the_published_overview_has_the_attachment_1_table(
    master, users, client_for, django_assert_max_num_queries
):
    evaluation = services.load_reference(path=CSV)
    client = client_for("officer_branch")
    with django_assert_max_num_queries(40):
        page = html(client.get(reverse("evaluation:detail", args=[evaluation.pk])))
    assert page.count("data-institution=") == 24
    assert "定性指标（60分）" in page and "76.58" in page and "已发布" in page
    # 营业管理部 sees the rows of the banks it follows; the group statistics stay whole
    page = html(client_for("officer_in").get(reverse("evaluation:detail", args=[evaluation.pk])))
    assert page.count("data-institution=") == 19 and "湖北银行" not in page


def test_a_bank_sees_its_own_result_not_the_table(master, users, client_for):
    evaluation = services.load_reference(path=CSV)
    page = html(client_for("filer_b").get(reverse("evaluation:detail", args=[evaluation.pk])))
    assert "下载本行评估报告" in page and "优秀" in page and "87.00" in page
    assert "工商银行" not in page and 'id="results"' not in page


def test_an_officer_scores_through_the_form_and_a_stale_form_is_refused(draft, master, client_for):
    item = draft.items.get(code="authorization")
    url = reverse("evaluation:score", args=[draft.pk, master["A"].pk, item.pk])
    client = client_for("officer_in")
    form = {
        "lock_version": "0",
        "criterion-completeness": "7",
        "criterion-delegation": "6",
        "criterion-streamlining": "4",
        "criterion-channels": "5",
        "comment": "公示渠道覆盖网点、官网",
    }
    response = client.post(url, form, follow=True)
    assert "已保存工商银行“授权、授信清单”的评分：22.00 分" in response.content.decode()
    score = QualitativeScore.objects.get()
    assert score.value == D(22) and score.comment == "公示渠道覆盖网点、官网"
    page = html(client.get(reverse("evaluation:institution", args=[draft.pk, master["A"].pk])))
    assert 'name="criterion-delegation" value="6.00"' in page
    # someone saves over the page we still have open (revision 0)
    response = client_for("officer_branch").post(url, {**form, "criterion-channels": "1"}, follow=True)
    assert "已被officer_in修改为 22.00" in response.content.decode()
    assert QualitativeScore.objects.get().value == D(22)


def test_the_scoring_page_is_for_officers_who_follow_the_bank(draft, master, client_for):
    assert (
        client_for("officer_in")
        .get(reverse("evaluation:institution", args=[draft.pk, master["B"].pk]))
        .status_code
        == 404
    )
    assert (
        client_for("filer_a")
        .get(reverse("evaluation:institution", args=[draft.pk, master["A"].pk]))
        .status_code
        == 403
    )


def test_the_scheme_form_saves_or_says_why_not(draft, client_for):
    client = client_for("pboc_admin")
    url = reverse("evaluation:scheme", args=[draft.pk])
    page = html(client.get(url))
    assert "各项分值合计须为 100 分" in page
    form = {
        "lock_version": str(draft.lock_version),
        "grading_method": "rank_quota",
        "excellent": "0.2",
        "good": "0.4",
        "fair": "0.3",
        "result_order": "score",
    }
    for item in draft.items.all():
        p = f"item-{item.pk}-"
        form[p + "weight"] = "30" if item.code == "authorization" else str(item.weight)
        if item.is_quantitative:
            form |= {
                p + "method": "steps",
                p + "floor_share": "0.5",
                p + "steps": "0.3:1；0.2:0.8",
                p + "indicator_code": item.indicator_code,
                p + "indicator_year": "2022",
                p + "indicator_month": "12",
            }
    response = client.post(url, form)
    page = html(response)
    assert "各项目分值合计 105 分" in page and "方案未保存" in page
    assert 'value="30"' in page  # the form keeps what was typed
    form[f"item-{draft.items.get(code='authorization').pk}-weight"] = "25"
    response = client.post(url, form)
    assert response.status_code == 302
    growth = draft.items.get(code="growth_yoy")
    assert growth.method == "steps" and growth.steps == [
        {"min": "0.2", "share": "0.8"},
        {"min": "0.3", "share": "1"},
    ]
    draft.refresh_from_db()
    assert draft.grading_method == "rank_quota" and draft.result_order == "score"
    entry = AuditEntry.objects.get(action="evaluation.scheme", object_id=str(draft.pk))
    assert entry.changes["grading"] == [
        ["relative_mean", "5.0000", "0.0000", "-5.0000", "listed"],
        ["rank_quota", "0.2", "0.4", "0.3", "score"],
    ]
    assert entry.changes["growth_yoy"][1]["method"] == "steps"


def test_only_admins_open_the_scheme(draft, client_for):
    assert client_for("officer_branch").get(reverse("evaluation:scheme", args=[draft.pk])).status_code == 403


def test_a_bank_uploads_a_list_and_a_renamed_web_page_is_refused(draft, master, client_for):
    client = client_for("filer_a")
    url = reverse("evaluation:evidence", args=[draft.pk])
    assert "报送四张清单与公示材料" in html(client.get(url))
    response = client.post(
        url,
        {
            "form": "evidence",
            "kind": "exemption",
            "note": "",
            "link": "",
            "file": SimpleUploadedFile("尽职免责清单.pdf", demo_pdf("exemption")),
        },
        follow=True,
    )
    assert "已报送尽职免责清单" in response.content.decode()
    response = client.post(
        url,
        {
            "form": "evidence",
            "kind": "credit",
            "link": "",
            "file": SimpleUploadedFile("授信清单.pdf", b"<html>oops</html>"),
        },
        follow=True,
    )
    assert "D105" in response.content.decode()
    assert Evidence.objects.count() == 1
    evidence = Evidence.objects.get()
    # the file: the bank and the officers following it, nobody else
    file_url = reverse("evaluation:evidence_file", args=[draft.pk, evidence.pk])
    assert client.get(file_url).status_code == 200
    assert client_for("officer_in").get(file_url).status_code == 200
    assert client_for("filer_b").get(file_url).status_code == 404
    officer_page = html(
        client_for("officer_in").get(reverse("evaluation:institution", args=[draft.pk, master["A"].pk]))
    )
    assert "尽职免责清单.pdf" in officer_page


def test_the_what_if_page_sets_the_draft_beside_the_published(master, users, client_for):
    evaluation = services.create_evaluation(
        actor=users["pboc_admin"], year=2022, jurisdiction=master["branch"]
    )
    put_indicators(evaluation)
    services.fetch_inputs(actor=users["pboc_admin"], evaluation=evaluation)
    score_all(evaluation, users["officer_branch"])
    services.publish(actor=users["pboc_admin"], evaluation=evaluation)
    client = client_for("pboc_admin")
    response = client.post(reverse("evaluation:copy", args=[evaluation.pk]))
    draft = evaluation.what_ifs.get()
    assert response["Location"] == reverse("evaluation:scheme", args=[draft.pk])
    page = html(client.get(reverse("evaluation:what_if", args=[draft.pk])))
    assert page.count("data-institution=") == 24 and "<b>0</b> 家机构评估结果变化" in page
    assert "已发布方案" in page and "模拟方案" in page
    assert client_for("filer_a").get(reverse("evaluation:what_if", args=[draft.pk])).status_code == 404
