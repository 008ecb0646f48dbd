"""Every state change of the 四张清单 evaluation through its services: scoring within bounds and jurisdiction,
optimistic locking, 取数 from the indicators, bad input stopped with a Chinese message, publishing that
freezes and locks everything, grade overrides with reasons, evidence checked by content, what-if drafts."""

from decimal import Decimal as D

import pytest

from audit.models import AuditEntry
from evaluation import scoring, selectors, services
from evaluation.models import (
    Evaluation,
    Evidence,
    GradingMethod,
    InputSource,
    ItemInput,
    ItemKind,
    ListKind,
    Member,
    PeerGroup,
    QualitativeScore,
    Result,
    Status,
)
from institutions.models import Institution
from portal.errors import Conflict, Forbidden, ServiceError
from reporting.demo import demo_pdf
from tests.worlds import put_indicators, score_all


@pytest.fixture
def evaluation(users, master):
    return services.create_evaluation(actor=users["pboc_admin"], year=2022, jurisdiction=master["branch"])


def items(evaluation):
    return {i.code: i for i in evaluation.items.all()}


@pytest.fixture
def ready(evaluation, users):
    put_indicators(evaluation)
    services.fetch_inputs(actor=users["pboc_admin"], evaluation=evaluation)
    score_all(evaluation, users["officer_branch"])
    evaluation.refresh_from_db()
    return evaluation


# --- creating --------------------------------------------------------------------------------------------------------


def test_a_new_evaluation_has_the_2021_scheme_and_the_three_groups(evaluation):
    assert [(i.name, i.weight, i.kind) for i in evaluation.items.order_by("order")] == [
        ("授权、授信清单", D(25), ItemKind.QUALITATIVE),
        ("受理回告清单", D(15), ItemKind.QUALITATIVE),
        ("尽职免责清单", D(20), ItemKind.QUALITATIVE),
        ("普惠小微贷款比年初增长", D(20), ItemKind.QUANTITATIVE),
        ("同比增速", D(20), ItemKind.QUANTITATIVE),
    ]
    growth = items(evaluation)["growth_ytd"]
    assert (growth.method, growth.floor_share, growth.indicator_code, growth.indicator_month) == (
        scoring.LINEAR,
        D("0.6"),
        "loan_growth_ytd",
        12,
    )
    sizes = {g.name: g.members.count() for g in evaluation.groups.all()}
    assert sizes == {"第1组": 5, "第2组": 14, "第3组": 5}
    assert AuditEntry.objects.filter(action="evaluation.create", object_id=str(evaluation.pk)).exists()


def test_only_an_admin_creates_and_only_one_per_year(evaluation, users, master):
    with pytest.raises(Forbidden):
        services.create_evaluation(actor=users["officer_branch"], year=2023, jurisdiction=master["branch"])
    with pytest.raises(Conflict) as caught:
        services.create_evaluation(actor=users["pboc_admin"], year=2022, jurisdiction=master["branch"])
    assert "已存在" in caught.value.message


# --- scoring ----------------------------------------------------------------------------------------------------------


def test_an_officer_scores_an_item_with_a_comment_and_the_change_is_audited(evaluation, users, master):
    item = items(evaluation)["authorization"]
    row = services.score(
        actor=users["officer_in"],
        evaluation=evaluation,
        institution=master["A"],
        item=item,
        value="21.5",
        comment="授权清单明确到二级分行",
    )
    assert (row.value, row.comment, row.lock_version, row.scored_by) == (
        D("21.50"),
        "授权清单明确到二级分行",
        1,
        users["officer_in"],
    )
    entry = AuditEntry.objects.get(action="evaluation.score", object_id=str(row.pk))
    assert entry.institution == master["A"] and entry.changes["value"] == [None, "21.50"]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("26", "得分 26.00 超出范围：应在 0 到 25 分（该项分值）之间"),
        ("-1", "得分 -1.00 超出范围"),
        ("12.345", "最多保留两位小数"),
        ("abc", "不是有效的数字"),
        ("", "请填写"),
    ],
)
def test_a_score_out_of_bounds_is_refused_with_a_message(evaluation, users, master, value, message):
    with pytest.raises(ServiceError) as caught:
        services.score(
            actor=users["officer_in"],
            evaluation=evaluation,
            institution=master["A"],
            item=items(evaluation)["authorization"],
            value=value,
        )
    assert message in caught.value.message and "工商银行" in caught.value.message
    assert not QualitativeScore.objects.exists()


def test_scoring_by_sub_criteria_adds_them_up_and_checks_each(evaluation, users, master):
    item = items(evaluation)["acceptance"]  # 逐笔回告 8, 回告时限 4, 公示渠道 3
    row = services.score(
        actor=users["officer_in"],
        evaluation=evaluation,
        institution=master["A"],
        item=item,
        criteria={"each_reply": "7.5", "timeliness": "4", "channels": "2"},
    )
    assert row.value == D("13.50") and row.criteria == {
        "each_reply": "7.50",
        "timeliness": "4.00",
        "channels": "2.00",
    }
    with pytest.raises(ServiceError) as caught:
        services.score(
            actor=users["officer_in"],
            evaluation=evaluation,
            institution=master["A"],
            item=item,
            criteria={"each_reply": "9", "timeliness": "4", "channels": "2"},
            expected_lock_version=1,
        )
    assert "“受理回告清单—逐笔回告”的得分 9.00 超出范围：应在 0 到 8 分之间" in caught.value.message
    with pytest.raises(ServiceError) as caught:
        services.score(
            actor=users["officer_in"],
            evaluation=evaluation,
            institution=master["A"],
            item=item,
            criteria={"each_reply": "8"},
            expected_lock_version=1,
        )
    assert "尚缺：回告时限、公示渠道" in caught.value.message


@pytest.mark.parametrize("who", ["officer_out", "filer_a", "signer_b"])
def test_only_officers_who_follow_the_institution_score_it(evaluation, users, master, who):
    with pytest.raises(Forbidden):
        services.score(
            actor=users[who],
            evaluation=evaluation,
            institution=master["A"],
            item=items(evaluation)["authorization"],
            value="20",
        )


def test_officer_in_cannot_score_a_bank_followed_by_another_office(evaluation, users, master):
    with pytest.raises(Forbidden) as caught:
        services.score(
            actor=users["officer_in"],
            evaluation=evaluation,
            institution=master["B"],
            item=items(evaluation)["authorization"],
            value="20",
        )
    assert "湖北银行" in caught.value.message


def test_two_officers_cannot_silently_overwrite_each_other(evaluation, users, master):
    item = items(evaluation)["exemption"]
    # both opened the page before anyone had scored (revision 0)
    services.score(
        actor=users["officer_in"],
        evaluation=evaluation,
        institution=master["A"],
        item=item,
        value="18",
        expected_lock_version=0,
    )
    with pytest.raises(Conflict) as caught:
        services.score(
            actor=users["officer_branch"],
            evaluation=evaluation,
            institution=master["A"],
            item=item,
            value="12",
            expected_lock_version=0,
        )
    assert "已被officer_in修改为 18.00" in caught.value.message and "请刷新页面" in caught.value.message
    assert QualitativeScore.objects.get(item=item, institution=master["A"]).value == D(18)
    # having seen revision 1, the second officer may change it
    services.score(
        actor=users["officer_branch"],
        evaluation=evaluation,
        institution=master["A"],
        item=item,
        value="12",
        expected_lock_version=1,
    )
    assert QualitativeScore.objects.get(item=item, institution=master["A"]).value == D(12)


def test_a_quantitative_item_cannot_be_scored_by_hand(evaluation, users, master):
    with pytest.raises(ServiceError) as caught:
        services.score(
            actor=users["officer_in"],
            evaluation=evaluation,
            institution=master["A"],
            item=items(evaluation)["growth_ytd"],
            value="20",
        )
    assert "不是本次评估的定性项目" in caught.value.message


# --- 取数 and bad input ----------------------------------------------------------------------------------------------------


def test_fetch_reads_the_stored_indicator_and_names_institutions_without_data(evaluation, users):
    put_indicators(evaluation, skip={"HBB"})
    counts = services.fetch_inputs(actor=users["pboc_admin"], evaluation=evaluation)
    assert counts == {"values": 46, "missing": 2}
    icbc = Institution.objects.get(code="ICBC")
    snapshot = ItemInput.objects.get(evaluation=evaluation, institution=icbc, item__code="growth_ytd")
    assert snapshot.value == D("0.11") and snapshot.source == InputSource.INDICATOR
    score_all(evaluation, users["officer_branch"])
    with pytest.raises(ServiceError) as caught:
        services.publish(actor=users["pboc_admin"], evaluation=evaluation)
    assert (
        "湖北银行的“普惠小微贷款比年初增长”没有指标值（2022年12月监测表未报送），无法计算定量得分"
        in caught.value.message
    )
    assert not Result.objects.exists()
    assert Evaluation.objects.get(pk=evaluation.pk).status == Status.DRAFT


def test_an_indicator_never_computed_is_named_too(evaluation, users):
    services.fetch_inputs(actor=users["pboc_admin"], evaluation=evaluation)
    problems = selectors.results(evaluation).problems
    assert f"工商银行的“同比增速”没有指标值（{selectors.NO_VALUE}），无法计算定量得分" in problems


def test_publishing_with_an_unscored_item_writes_nothing(ready, users, master):
    QualitativeScore.objects.filter(institution=master["B"], item__code="exemption").delete()
    with pytest.raises(ServiceError) as caught:
        services.publish(actor=users["pboc_admin"], evaluation=ready)
    assert caught.value.message.startswith(f"{ready} 不能发布：湖北银行的“尽职免责清单”尚未评分")
    assert not Result.objects.exists() and Evaluation.objects.get(pk=ready.pk).status == Status.DRAFT


def test_weights_that_do_not_add_up_are_refused_and_nothing_is_saved(evaluation, users):
    settings = {
        i.pk: services.ItemSettings(
            weight=D(30) if i.code == "authorization" else i.weight,
            method=i.method,
            floor_share=i.floor_share,
            indicator_code=i.indicator_code,
            indicator_year=i.indicator_year,
            indicator_month=i.indicator_month,
        )
        for i in evaluation.items.all()
    }
    with pytest.raises(ServiceError) as caught:
        services.update_scheme(
            actor=users["pboc_admin"],
            evaluation=evaluation,
            items=settings,
            grading_method=GradingMethod.RELATIVE_MEAN,
            thresholds=(5, 0, -5),
        )
    assert "各项目分值合计 105 分" in caught.value.message and "与满分 100 分不符" in caught.value.message
    assert items(evaluation)["authorization"].weight == D(25)


def test_a_group_with_no_members_stops_publishing(ready, users):
    PeerGroup.objects.create(evaluation=ready, code="G4", name="第4组", order=4)
    with pytest.raises(ServiceError) as caught:
        services.publish(actor=users["pboc_admin"], evaluation=ready)
    assert "第4组没有参评机构" in caught.value.message


def test_moving_a_member_changes_its_group(evaluation, users, master):
    g1 = evaluation.groups.get(code="G1")
    services.move_member(actor=users["pboc_admin"], evaluation=evaluation, institution=master["B"], group=g1)
    assert Member.objects.get(evaluation=evaluation, institution=master["B"]).group == g1
    with pytest.raises(Forbidden):
        services.move_member(
            actor=users["officer_branch"], evaluation=evaluation, institution=master["B"], group=None
        )


def test_a_stale_scheme_form_is_a_conflict(evaluation, users):
    with pytest.raises(Conflict):
        services.update_scheme(
            actor=users["pboc_admin"],
            evaluation=evaluation,
            items={},
            grading_method=GradingMethod.ABSOLUTE,
            thresholds=(90, 80, 60),
            expected_lock_version=evaluation.lock_version + 5,
        )


# --- publishing ------------------------------------------------------------------------------------------------------


def test_publishing_freezes_unrounded_scores_and_locks_everything(ready, users, master):
    services.publish(actor=users["pboc_admin"], evaluation=ready, expected_lock_version=ready.lock_version)
    ready.refresh_from_db()
    assert ready.status == Status.PUBLISHED and ready.published_by == users["pboc_admin"]
    assert Result.objects.filter(evaluation=ready).count() == 24
    live = selectors.compute(ready)
    stored = selectors.results(ready)
    assert not stored.live
    for row in stored.rows:
        assert row.total == live.frame.loc[row.institution_id, "total"]
    audit = AuditEntry.objects.get(action="evaluation.publish", object_id=str(ready.pk))
    assert "24 家机构" in audit.summary

    item = items(ready)["authorization"]
    with pytest.raises(ServiceError) as caught:
        services.score(
            actor=users["officer_in"],
            evaluation=ready,
            institution=master["A"],
            item=item,
            value="1",
            expected_lock_version=1,
        )
    assert "已发布，评分已锁定" in caught.value.message
    with pytest.raises(ServiceError):
        services.update_scheme(
            actor=users["pboc_admin"],
            evaluation=ready,
            items={},
            grading_method="absolute",
            thresholds=(1, 1, 1),
        )
    with pytest.raises(ServiceError):
        services.override_grade(
            actor=users["officer_in"],
            evaluation=ready,
            institution=master["A"],
            grade="good",
            reason="调整一下",
        )
    with pytest.raises(ServiceError):
        services.fetch_inputs(actor=users["pboc_admin"], evaluation=ready)
    with pytest.raises(ServiceError):
        services.publish(actor=users["pboc_admin"], evaluation=ready)
    with pytest.raises(ServiceError):
        services.add_evidence(
            actor=users["filer_a"],
            evaluation=ready,
            institution=master["A"],
            kind="credit",
            link="https://a.example/",
        )


def test_only_an_admin_publishes(ready, users):
    with pytest.raises(Forbidden):
        services.publish(actor=users["officer_branch"], evaluation=ready)


# --- grade overrides ---------------------------------------------------------------------------------------------------


def test_an_override_needs_a_reason_and_travels_with_the_grade(ready, users, master):
    with pytest.raises(ServiceError) as caught:
        services.override_grade(
            actor=users["officer_in"],
            evaluation=ready,
            institution=master["A"],
            grade="excellent",
            reason=" ",
        )
    assert "必须写明理由" in caught.value.message
    before = selectors.results(ready).row_for(master["A"].pk)
    target = "excellent" if before.grade != "excellent" else "fair"
    services.override_grade(
        actor=users["officer_in"],
        evaluation=ready,
        institution=master["A"],
        grade=target,
        reason="现场督导核实公示全覆盖",
    )
    row = selectors.results(ready).row_for(master["A"].pk)
    assert (
        row.grade == target
        and row.computed_grade == before.grade
        and row.override_reason == "现场督导核实公示全覆盖"
    )
    services.publish(actor=users["pboc_admin"], evaluation=ready)
    stored = Result.objects.get(evaluation=ready, institution=master["A"])
    assert (stored.grade, stored.computed_grade, stored.override_reason) == (
        target,
        before.grade,
        "现场督导核实公示全覆盖",
    )


def test_clearing_an_override_restores_the_rule(ready, users, master):
    services.override_grade(
        actor=users["officer_in"],
        evaluation=ready,
        institution=master["A"],
        grade="encouraged",
        reason="未按要求公示",
    )
    services.clear_override(actor=users["officer_in"], evaluation=ready, institution=master["A"])
    row = selectors.results(ready).row_for(master["A"].pk)
    assert row.grade == row.computed_grade and not row.overridden


# --- evidence ------------------------------------------------------------------------------------------------------------


def test_a_bank_files_its_lists_checked_by_content(evaluation, users, master):
    item = services.add_evidence(
        actor=users["filer_a"],
        evaluation=evaluation,
        institution=master["A"],
        kind=ListKind.AUTHORIZATION,
        data=demo_pdf("ICBC authorization list"),
        filename="授权清单.pdf",
        note="2022年版",
    )
    assert item.file_type == "pdf" and item.file_name == "授权清单.pdf" and len(item.file_sha256) == 64
    assert AuditEntry.objects.filter(action="evaluation.evidence", institution=master["A"]).exists()
    with pytest.raises(ServiceError) as caught:
        services.add_evidence(
            actor=users["filer_a"],
            evaluation=evaluation,
            institution=master["A"],
            kind=ListKind.CREDIT,
            data=b"<html><body>not a pdf</body></html>",
            filename="授信清单.pdf",
        )
    assert caught.value.message.startswith("D105") and "授信清单.pdf" in caught.value.message
    with pytest.raises(ServiceError) as caught:
        services.add_evidence(
            actor=users["filer_a"],
            evaluation=evaluation,
            institution=master["A"],
            kind=ListKind.DISCLOSURE,
            link="javascript:alert(1)",
        )
    assert "公示链接" in caught.value.message
    assert Evidence.objects.count() == 1


def test_a_bank_files_only_for_itself(evaluation, users, master):
    with pytest.raises(Forbidden):
        services.add_evidence(
            actor=users["filer_b"],
            evaluation=evaluation,
            institution=master["A"],
            kind=ListKind.CREDIT,
            link="https://example.com/list",
        )
    with pytest.raises(Forbidden):
        services.add_evidence(
            actor=users["officer_in"],
            evaluation=evaluation,
            institution=master["A"],
            kind=ListKind.CREDIT,
            link="https://example.com/list",
        )


def test_outlet_coverage_is_checked_and_locked_optimistically(evaluation, users, master):
    row = services.save_disclosure(
        actor=users["filer_a"],
        evaluation=evaluation,
        institution=master["A"],
        outlets=400,
        outlets_disclosed=396,
        channels="网点公告栏、官网",
    )
    assert row.coverage == D("0.99")
    with pytest.raises(ServiceError) as caught:
        services.save_disclosure(
            actor=users["filer_a"],
            evaluation=evaluation,
            institution=master["A"],
            outlets=10,
            outlets_disclosed=11,
            expected_lock_version=1,
        )
    assert "大于网点总数" in caught.value.message
    with pytest.raises(Conflict):
        services.save_disclosure(
            actor=users["signer_a"],
            evaluation=evaluation,
            institution=master["A"],
            outlets=400,
            outlets_disclosed=400,
            expected_lock_version=0,
        )


# --- what-if --------------------------------------------------------------------------------------------------------


def switch_to_rank_quotas(draft, admin):
    settings = {
        i.pk: services.ItemSettings(
            weight=D(30) if i.code == "growth_ytd" else (D(10) if i.code == "growth_yoy" else i.weight),
            method=scoring.RANK if i.kind == ItemKind.QUANTITATIVE else "",
            floor_share=D("0.5") if i.kind == ItemKind.QUANTITATIVE else D(0),
            indicator_code=i.indicator_code,
            indicator_year=i.indicator_year,
            indicator_month=i.indicator_month,
        )
        for i in draft.items.all()
    }
    services.update_scheme(
        actor=admin,
        evaluation=draft,
        items=settings,
        grading_method=GradingMethod.RANK_QUOTA,
        thresholds=("0.2", "0.4", "0.3"),
        expected_lock_version=draft.lock_version,
    )


def test_a_what_if_copies_the_published_scheme_compares_and_replaces_it_on_publishing(ready, users, master):
    admin = users["pboc_admin"]
    services.publish(actor=admin, evaluation=ready)
    draft = services.start_what_if(actor=admin, evaluation=ready)
    assert draft.is_draft and draft.based_on == ready
    assert QualitativeScore.objects.filter(evaluation=draft).count() == 72
    assert ItemInput.objects.filter(evaluation=draft).count() == 48
    switch_to_rank_quotas(draft, admin)
    draft.refresh_from_db()

    published, current, changes = selectors.what_if(draft)
    assert published.evaluation == ready and current.live and current.ok
    assert len(changes) == 24
    # rank quotas: each group's best is 优秀; in 第2组 (14) the 13 places of 优秀…一般 leave the last 勉励
    assert all(r.grade == "excellent" for r in current.rows if r.rank == 1)
    last = max((r for r in current.rows if r.group == "G2"), key=lambda r: r.rank)
    assert last.rank == 14 and last.grade == "encouraged"
    assert any(c.grade_changed for c in changes) and any(c.delta != 0 for c in changes)
    # item by item: the 定性 scores are the published ones, the 定量 ones follow the new method and weights
    icbc = next(c for c in changes if c.name == "工商银行")
    assert [name for name, _a, _b in icbc.items] == [
        "授权、授信清单",
        "受理回告清单",
        "尽职免责清单",
        "普惠小微贷款比年初增长",
        "同比增速",
    ]
    assert all(a == b for _n, a, b in icbc.items[:3])
    assert icbc.items[3][2] <= D(30) and icbc.items[4][2] <= D(10) and icbc.items[4][1] > D(10) - D("0.01")
    # the published evaluation did not move
    assert [r.total for r in selectors.results(ready).rows] == [r.total for r in published.rows]
    assert items(ready)["growth_ytd"].method == scoring.LINEAR

    with pytest.raises(ServiceError) as caught:
        services.score(
            actor=users["officer_in"],
            evaluation=draft,
            institution=master["A"],
            item=items(draft)["authorization"],
            value="1",
            expected_lock_version=1,
        )
    assert "模拟测算草稿" in caught.value.message

    services.publish(actor=admin, evaluation=draft)
    ready.refresh_from_db()
    draft.refresh_from_db()
    assert ready.status == Status.SUPERSEDED and draft.status == Status.PUBLISHED
    assert Evaluation.objects.filter(year=2022, status=Status.PUBLISHED).get() == draft
    stored = {r.institution_id: r for r in Result.objects.filter(evaluation=draft)}
    rows = {r.institution_id: r for r in current.rows}
    assert all(stored[k].grade == rows[k].grade for k in rows)


def test_a_what_if_starts_only_from_a_published_evaluation(evaluation, users):
    with pytest.raises(ServiceError) as caught:
        services.start_what_if(actor=users["pboc_admin"], evaluation=evaluation)
    assert "尚未发布" in caught.value.message


def test_a_stale_what_if_cannot_replace_a_newer_publication(ready, users):
    admin = users["pboc_admin"]
    services.publish(actor=admin, evaluation=ready)
    first = services.start_what_if(actor=admin, evaluation=ready)
    second = services.start_what_if(actor=admin, evaluation=ready)
    services.publish(actor=admin, evaluation=first)
    with pytest.raises(Conflict):
        services.publish(actor=admin, evaluation=second)
    assert Evaluation.objects.get(pk=second.pk).status == Status.DRAFT


# --- who sees what ---------------------------------------------------------------------------------------------------------


def test_visibility_of_evaluations_and_cards(ready, users, master):
    assert list(selectors.evaluations_for(users["officer_out"])) == []
    assert ready in selectors.evaluations_for(users["filer_a"])  # the open draft, to file its lists
    assert not selectors.can_see_card(users["filer_a"], ready, master["A"])  # …but no card before publication
    assert selectors.can_see_card(users["officer_in"], ready, master["A"])
    assert not selectors.can_see_card(users["officer_in"], ready, master["B"])
    services.publish(actor=users["pboc_admin"], evaluation=ready)
    ready.refresh_from_db()
    assert selectors.can_see_card(users["filer_a"], ready, master["A"])
    assert not selectors.can_see_card(users["filer_a"], ready, master["B"])
    draft = services.start_what_if(actor=users["pboc_admin"], evaluation=ready)
    assert draft not in selectors.evaluations_for(users["filer_a"])
    assert draft in selectors.evaluations_for(users["officer_in"])
