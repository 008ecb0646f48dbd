"""The month's 专项行动监测通报（简报）: its numbers, drafted from the stored indicators, and its charts.

004 §(十九): the branch "按月调度各金融机构工作情况" and holds those 不到位 to account (约谈、现场督导、通报);
§(二十): it reports to its superiors and the government "以专报、简报". `compose` gathers, for a month and the
user's jurisdiction, what such a bulletin says — the province figures against each target with 时序进度 and
the basis (n/N) of each, each group's ranking on the main indicators, the institutions whose targets are
missed and what was done about them, reporting punctuality — with the same reads (selectors), the same
cells and checks (pages) and the same rounding as the dashboard and the exports, so a bulletin never shows
a number the dashboard does not. The result is plain JSON (frozen in `Bulletin.content`); `draft_paragraphs` writes the text an officer
then edits; `charts` draws it as inline SVG for the page and the PDF.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from django.db.models import Q
from django.utils import timezone
from django.utils.html import escape

from institutions import access
from institutions.models import EvaluationGroup, Institution
from portal.pdf import trend_svg
from reporting.models import Filing, Form, Period

from . import indicators as ind
from . import pages, selectors
from .models import PROVINCE_KEY, ScopeKind, TargetScope

# The indicators each group is ranked on (一句话: 增量、信用、扩面、降价).
RANKED = ("loan_growth_ytd", "new_credit_share", "first_loan_share", "weighted_rate")
# The province figures the overview paragraph cites.
FIGURES = (
    "loan_balance",
    "loan_increase_ytd",
    "loan_growth_ytd",
    "loan_growth_yoy",
    "credit_loan_balance",
    "credit_increase_ytd",
    "new_loans",
    "new_credit_share",
    "borrowers",
    "borrowers_increase_ytd",
    "first_loan_borrowers",
    "first_loan_amount",
    "first_loan_share",
    "weighted_rate",
    "rate_change_ytd",
    "first_loan_subsidy",
    "ewr_reward",
)
NO_SHEETS = "本月尚无审核通过的监测表"
NEXT_STEPS = (
    "下一步，人民银行将继续按月调度各金融机构专项行动进展，对工作不到位、目标进度明显滞后的金融机构，"
    "采取约谈、现场督导和通报等方式督促整改，推动全年目标如期完成。"
)


def _figure(cell: pages.Shown) -> dict:
    value = cell.value
    return {
        "code": cell.indicator.code,
        "label": cell.indicator.label,
        "unit": cell.indicator.unit_label,
        "text": cell.text_unit,
        "defined": cell.defined,
        "reason": value.reason if not cell.defined else "",
        "contributors": value.contributors,
        "members": value.members,
        "basis": f"{value.contributors}/{value.members}" if value.members > 1 else "",
        "partial": cell.partial,
        "chart": cell.chart_value,
    }


def _gap_text(indicator: ind.Indicator, gap: Decimal | None) -> str:
    """How far below its target a figure is: "差 12.30亿元", "低 1.25个百分点"."""
    if gap is None:
        return ""
    if indicator.rounded(abs(gap)) == 0:
        return "与目标持平，未高于目标"
    if indicator.share:
        return f"低 {abs(gap) * 100:.2f}个百分点"
    shown = indicator.text(abs(gap), with_unit=True)
    return f"高 {shown}" if indicator.better == "low" else f"差 {shown}"


def _when(dt) -> str:
    return timezone.localtime(dt).strftime("%Y-%m-%d %H:%M") if dt else ""


def compose(user, *, year: int, month: int, on_progress=lambda percent: None) -> dict:
    """Everything the bulletin of `year`-`month` says for `user`'s jurisdiction, as JSON-ready values."""
    visible = list(
        access.visible_institutions(user)
        .order_by("order")
        .values("pk", "short_name", "evaluation_group", "kind", "is_local_legal_person")
    )
    visible_ids = {v["pk"] for v in visible}
    as_of = selectors.as_of(year)
    period = Period.objects.filter(form=Form.MONITORING, year=year, month=month).first()
    content: dict = {
        "year": year,
        "month": month,
        "office": str(user.office) if getattr(user, "office", None) else "",
        "institutions": len(visible),
        "data_cutoff": _when(as_of.finished_at),
        "latest_approval_at": _when(as_of.latest_approval_at),
        "period": bool(period),
    }
    targets = selectors.targets_for(year)
    codes = set(RANKED) | {"plan_increase"} | {t.indicator for t in targets}
    table = selectors.dashboard_table(year, month, False, institution_codes=codes)
    on_progress(20)

    # the province against each of its targets, as on the dashboard
    province = {
        code: _figure(pages.shown(table, ScopeKind.PROVINCE, PROVINCE_KEY, year, month, code))
        for code in FIGURES
    }
    basis = table.get(ScopeKind.PROVINCE, PROVINCE_KEY, year, month, "loan_balance")
    content["province_basis"] = {"contributors": basis.contributors, "members": basis.members}
    content["figures"] = province
    rows = []
    for target in [t for t in targets if t.scope == TargetScope.PROVINCE]:
        cell = pages.shown(table, ScopeKind.PROVINCE, PROVINCE_KEY, year, month, target.indicator)
        check = selectors.check(table, target, ScopeKind.PROVINCE, PROVINCE_KEY, year, month)
        rows.append(
            {
                **_figure(cell),
                "target": target.label,
                "source": target.source,
                "target_text": pages.target_text(target, check),
                "progress": check.progress_text if check.progress is not None else "",
                "time_progress": check.time_text,
                "status": check.status,
                "met": check.met,
                "pending": check.pending,
                "check_reason": check.reason,
                "bar": check.bar,
                "time_bar": check.time_bar,
            }
        )
    content["targets"] = rows
    on_progress(40)

    # each group's ranking on the main indicators, the jurisdiction's institutions
    institutions = list(
        Institution.objects.order_by("order").values(
            "pk", "short_name", "evaluation_group", "kind", "is_local_legal_person"
        )
    )
    rankings = []
    for group_value, group_label in EvaluationGroup.choices:
        members = [i for i in institutions if i["evaluation_group"] == group_value]
        shown_members = [i for i in members if i["pk"] in visible_ids]
        if not shown_members:
            continue
        by_inst: dict[int, list] = {i["pk"]: [] for i in shown_members}
        for code in RANKED:
            items = [
                (i, pages.shown(table, ScopeKind.INSTITUTION, i["pk"], year, month, code, with_url=False))
                for i in members
            ]
            ranked = {r.institution["pk"]: r for r in pages._rank(items, ind.get(code).better)}
            for pk in by_inst:
                r = ranked[pk]
                by_inst[pk].append({"text": r.cell.text, "rank": r.rank, "of": r.of})
        leaders = []
        for n, code in enumerate(RANKED):
            first = [i for i in shown_members if by_inst[i["pk"]][n]["rank"] == 1]
            if first:
                leaders.append(
                    {
                        "indicator": ind.get(code).label,
                        "names": [i["short_name"] for i in first],
                        "text": by_inst[first[0]["pk"]][n]["text"],
                        "unit": ind.get(code).unit_label,
                    }
                )
        order = sorted(
            shown_members,
            key=lambda i: (by_inst[i["pk"]][0]["rank"] is None, by_inst[i["pk"]][0]["rank"] or 0),
        )
        rankings.append(
            {
                "group": str(group_label),
                "size": len(members),
                "rows": [{"name": i["short_name"], "cells": by_inst[i["pk"]]} for i in order],
                "leaders": leaders,
            }
        )
    content["ranked"] = [
        {"code": c, "label": ind.get(c).label, "unit": ind.get(c).unit_label, "better": ind.get(c).better}
        for c in RANKED
    ]
    content["rankings"] = rankings
    on_progress(60)

    # 不到位: the targets each institution misses, and the supervision already recorded this year
    actions = defaultdict(list)
    for a in selectors.supervision_for(user, visible_ids).filter(taken_on__year=year).order_by("-taken_on"):
        actions[a.institution_id].append(
            {"date": f"{a.taken_on:%Y-%m-%d}", "kind": a.get_kind_display(), "reason": a.reason}
        )
    failing = []
    for inst in visible:
        info = {"id": inst["pk"], "local": inst["is_local_legal_person"]}
        missed = []
        for target in selectors.applicable_targets(targets, info):
            check = selectors.check(table, target, ScopeKind.INSTITUTION, inst["pk"], year, month)
            if check.met is False:
                indicator = ind.get(target.indicator)
                cell = pages.shown(
                    table, ScopeKind.INSTITUTION, inst["pk"], year, month, target.indicator, with_url=False
                )
                missed.append(
                    {
                        "target": target.label,
                        "indicator": indicator.label,
                        "actual": cell.text_unit,
                        "target_text": pages.target_text(target, check),
                        "gap": _gap_text(indicator, check.gap),
                    }
                )
        if missed:
            failing.append(
                {
                    "institution_id": inst["pk"],
                    "name": inst["short_name"],
                    "targets": missed,
                    "actions": actions.get(inst["pk"], []),
                }
            )
    content["failing"] = failing
    content["approved_here"] = _approved(period, visible_ids)
    on_progress(75)

    content["punctuality"] = punctuality(period, visible_ids)
    content["trend"] = {
        "this": [
            pages.shown(
                table, ScopeKind.PROVINCE, PROVINCE_KEY, year, m, "loan_growth_ytd", with_url=False
            ).chart_value
            for m in range(1, 13)
        ],
        "last": [
            pages.shown(
                table, ScopeKind.PROVINCE, PROVINCE_KEY, year - 1, m, "loan_growth_ytd", with_url=False
            ).chart_value
            for m in range(1, 13)
        ],
    }
    rates = selectors.timeliness(user, year)
    content["timeliness"] = {
        "on_time": [None if r["on_time_rate"] is None else float(r["on_time_rate"]) for r in _twelve(rates)],
        "reported": [
            None if r["reporting_rate"] is None else float(r["reporting_rate"]) for r in _twelve(rates)
        ],
    }
    content["empty"] = empty_reason(content)
    on_progress(90)
    return content


def _twelve(rates: list[dict]) -> list[dict]:
    by_month = {r["period"].month: r for r in rates}
    blank = {"on_time_rate": None, "reporting_rate": None}
    return [by_month.get(m, blank) for m in range(1, 13)]


def _approved(period, visible_ids) -> int:
    if period is None:
        return 0
    return Filing.objects.filter(
        period=period, institution_id__in=visible_ids, status="approved", current_version__isnull=False
    ).count()


def punctuality(period, visible_ids) -> dict:
    """The month's 附件4 of the jurisdiction's institutions: on time, late, not (yet) submitted."""
    if period is None:
        return {"expected": 0, "on_time": [], "late": [], "missing": [], "due_on": "", "open": False}
    expected = list(
        Institution.objects.filter(pk__in=visible_ids, active_from__lte=period.ends_on)
        .filter(Q(active_to__isnull=True) | Q(active_to__gte=period.ends_on))
        .order_by("order")
        .values_list("pk", "short_name")
    )
    submitted = dict(
        Filing.objects.filter(period=period, institution_id__in=[pk for pk, _n in expected]).values_list(
            "institution_id", "first_submitted_at"
        )
    )
    out = {"on_time": [], "late": [], "missing": []}
    for pk, name in expected:
        at = submitted.get(pk)
        if at is None:
            out["missing"].append(name)
        elif timezone.localtime(at).date() <= period.due_on:
            out["on_time"].append(name)
        else:
            out["late"].append(name)
    return {
        "expected": len(expected),
        **out,
        "due_on": f"{period.due_on:%Y-%m-%d}",
        "open": timezone.localdate() <= period.due_on,
    }


def empty_reason(content: dict) -> str:
    """Why the bulletin has no figures to report, in words ("" when it has)."""
    if not content["institutions"]:
        return "本辖区没有跟踪的金融机构，本期无监测数据可通报。"
    if not content["period"]:
        return f"{content['year']}年{content['month']}月没有监测表报送期，本期无监测数据可通报。"
    if not content["province_basis"]["contributors"]:
        return f"{NO_SHEETS}，本期不列示指标数据。"
    return ""


# --- the drafted text ------------------------------------------------------------------------------------------


def _f(content: dict, code: str) -> str:
    figure = content["figures"][code]
    return figure["text"] if figure["defined"] else "—"


def _target_sentence(row: dict) -> str:
    head = f"{row['target']}（{row['target_text']}）"
    if not row["defined"]:
        return f"{head}：暂无数据（{row['reason']}）。"
    progress = f"，完成进度{row['progress']}" if row["progress"] else ""
    timing = f"，时序进度{row['time_progress']}" if row["time_progress"] else ""
    if row["pending"]:
        return f"{head}：{row['check_reason']}{progress}{timing}。"
    verdict = {True: "已达成", False: "未达成", None: "无法判断"}[row["met"]]
    return f"{head}：{row['text']}{progress}{timing}，{verdict}。"


def draft_paragraphs(content: dict) -> list[dict]:
    """The bulletin's text, written from its numbers; the officer edits it before publishing."""
    y, m = content["year"], content["month"]
    empty = content["empty"]
    out = []
    if empty:
        out.append({"key": "overview", "heading": "总体情况", "text": empty})
    else:
        b = content["province_basis"]
        basis = (
            f"本期{b['members']}家机构中{b['contributors']}家的监测表已审核通过，以下全省数据为这{b['contributors']}家的合计，"
            "其余机构审核通过后更新，目标是否达成暂不作判断。"
            if b["contributors"] < b["members"]
            else ""
        )
        loan_target = next((t for t in content["targets"] if t["code"] == "loan_increase_ytd"), None)
        completion = ""
        if loan_target and loan_target["progress"]:
            completion = f"，完成全年目标的{loan_target['progress']}"
            if loan_target["time_progress"]:
                completion += f"，时序进度{loan_target['time_progress']}"
        out.append(
            {
                "key": "overview",
                "heading": "总体情况",
                "text": (
                    f"{basis}截至{y}年{m}月末，全省普惠小微贷款余额{_f(content, 'loan_balance')}，"
                    f"比年初增加{_f(content, 'loan_increase_ytd')}，比年初增长{_f(content, 'loan_growth_ytd')}"
                    f"{completion}；同比增长{_f(content, 'loan_growth_yoy')}。"
                    f"普惠小微信用贷款余额{_f(content, 'credit_loan_balance')}，比年初增加"
                    f"{_f(content, 'credit_increase_ytd')}；年初以来新发放普惠小微贷款{_f(content, 'new_loans')}，"
                    f"其中信用贷款占比{_f(content, 'new_credit_share')}。普惠小微贷款户数"
                    f"{_f(content, 'borrowers')}，比年初增加{_f(content, 'borrowers_increase_ytd')}；拓展首贷户"
                    f"{_f(content, 'first_loan_borrowers')}，首贷户比重{_f(content, 'first_loan_share')}，"
                    f"首贷金额{_f(content, 'first_loan_amount')}。普惠小微贷款加权平均利率"
                    f"{_f(content, 'weighted_rate')}，较年初变化{_f(content, 'rate_change_ytd')}。"
                ),
            }
        )
        if content["targets"]:
            out.append(
                {
                    "key": "targets",
                    "heading": "全省目标完成情况",
                    "text": "".join(_target_sentence(t) for t in content["targets"]),
                }
            )
        if content["rankings"]:
            parts = []
            for g in content["rankings"]:
                lead = "；".join(
                    f"{x['indicator']}{'、'.join(x['names'])}居首（{x['text']}）" for x in g["leaders"]
                )
                parts.append(f"{g['group']}{lead or '暂无可排名的数据'}")
            out.append({"key": "rankings", "heading": "分组排名", "text": "。".join(parts) + "。"})
    failing = content["failing"]
    if content["institutions"] and not empty:
        if failing:
            names = []
            for f in failing:
                items = "、".join(f"{t['target']}（{t['actual']}，{t['gap']}）" for t in f["targets"])
                done = (
                    "，已" + "、".join(f"{a['date']}{a['kind']}" for a in f["actions"][:3])
                    if f["actions"]
                    else "，尚未采取督导措施"
                )
                names.append(f"{f['name']}：{items}{done}")
            text = f"本月有{len(failing)}家机构工作不到位。" + "；".join(names) + "。"
        elif not content["approved_here"]:
            text = f"辖内机构{NO_SHEETS}，暂无法判断各机构目标完成情况。"
        else:
            text = "本月辖内已审核机构均达到各项机构目标，或尚无法判断。"
        out.append({"key": "failing", "heading": "工作不到位的机构", "text": text})
    p = content["punctuality"]
    if content["institutions"] and content["period"]:
        late = f"逾期报送{len(p['late'])}家（{'、'.join(p['late'])}）" if p["late"] else "无逾期报送"
        missing = (
            f"{'截至目前' if p['open'] else ''}未报送{len(p['missing'])}家（{'、'.join(p['missing'])}）"
            if p["missing"]
            else "无未报送机构"
        )
        text = (
            f"{y}年{m}月监测表报送截止日为{p['due_on']}，应报{p['expected']}家，按时报送{len(p['on_time'])}家，"
            f"{late}，{missing}；已审核通过{content['approved_here']}家。"
        )
        out.append({"key": "punctuality", "heading": "报送情况", "text": text})
    out.append({"key": "next", "heading": "下一步工作", "text": NEXT_STEPS})
    return out


def title(content: dict) -> str:
    office = content["office"] or "人民银行"
    return f"{office}小微企业“敢贷愿贷能贷会贷”专项行动监测通报（{content['year']}年{content['month']}月）"


# --- charts ----------------------------------------------------------------------------------------------------


def _target_bars(rows: list[dict]) -> str:
    """Each province target's completion (bar) against 时序进度 (tick), as inline SVG."""

    rows = [r for r in rows if r["bar"] is not None]
    if not rows:
        return ""
    width, left, line = 520, 200, 22
    height = 28 + line * len(rows)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" role="img" aria-label="全省目标完成进度" class="bulletin-chart">',
        '<text x="4" y="13" font-size="11" font-weight="bold" fill="#1d2733">全省目标完成进度与时序进度</text>',
    ]
    span = width - left - 60
    for n, r in enumerate(rows):
        y = 24 + n * line
        colour = "#b26a00" if r["pending"] else ("#1e7b45" if r["met"] else "#b3261e")
        out.append(
            f'<text x="{left - 6}" y="{y + 11}" font-size="9" fill="#1d2733" text-anchor="end">'
            f"{escape(r['target'][:16])}</text>"
            f'<rect x="{left}" y="{y + 2}" width="{span}" height="12" fill="#eef2f6"/>'
            f'<rect x="{left}" y="{y + 2}" width="{span * r["bar"] / 100:.1f}" height="12" fill="{colour}"/>'
            f'<text x="{left + span + 4}" y="{y + 12}" font-size="9" fill="#1d2733">{escape(r["progress"])}'
            f"{'（' + r['basis'] + '）' if r['partial'] else ''}</text>"
        )
        if r["time_bar"] is not None:
            x = left + span * r["time_bar"] / 100
            out.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{y}" y2="{y + 16}" stroke="#1d2733"/>')
    out.append("</svg>")
    return "".join(out)


def _fractions(values: list) -> list:
    return [None if v is None else v / 100 for v in values]


def charts(content: dict) -> list[dict]:
    """Two or three charts of the bulletin as inline SVG (no script: the page's CSP and the PDF alike)."""
    out = []
    bars = _target_bars(content.get("targets", []))
    if bars and not content.get("empty"):
        out.append({"key": "targets", "svg": bars})
    if not content.get("empty"):
        trend = content.get("trend", {})
        out.append(
            {
                "key": "trend",
                "svg": str(
                    trend_svg(
                        "全省普惠小微贷款比年初增长率",
                        [
                            (f"{content['year']}年", _fractions(trend.get("this", [])), "#a4161a", False),
                            (f"{content['year'] - 1}年", _fractions(trend.get("last", [])), "#5f6b7a", True),
                        ],
                    )
                ),
            }
        )
    rates = content.get("timeliness", {})
    if content.get("institutions") and any(v is not None for v in rates.get("reported", [])):
        out.append(
            {
                "key": "punctuality",
                "svg": str(
                    trend_svg(
                        f"{content['year']}年各月报送率与按时报送率",
                        [
                            ("报送率", rates.get("reported", []), "#1f5fa8", False),
                            ("按时报送率", rates.get("on_time", []), "#1e7b45", True),
                        ],
                    )
                ),
            }
        )
    return out
