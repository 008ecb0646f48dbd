"""Demo evaluations for `loaddemo`: 2021 published from 附件1, and 2022 in progress. Idempotent."""

import random
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.db import transaction

from institutions.models import Institution, PbocOffice, User
from reporting.demo import demo_pdf

from . import services
from .models import Evaluation, ItemKind, ListKind, Member

REFERENCE_CSV = Path(settings.BASE_DIR) / "fixtures" / "2021-hubei-four-lists-evaluation.csv"
# Two institutions are left unscored, so the 2022 draft shows what still stops it from being published.
UNSCORED = {"HKB", "CZB"}

COMMENTS = {
    "authorization": [
        "授权清单明确到二级分行，审批权限下放到位",
        "授信清单公示完整，办贷环节较上年压缩",
        "部分网点授信清单未及时更新",
    ],
    "acceptance": [
        "受理回告逐笔登记，回告时限符合要求",
        "个别网点回告记录不全",
        "建立受理回告台账，逐笔落实",
    ],
    "exemption": [
        "尽职免责情形清晰，已有免责案例",
        "免责比例偏低，建议细化认定标准",
        "尽职免责清单已在全部网点公示",
    ],
}


@transaction.atomic
def load_demo_evaluations() -> str:
    reference = services.load_reference(path=REFERENCE_CSV)
    branch = PbocOffice.objects.get(parent__isnull=True)
    if Evaluation.objects.filter(year=2022, jurisdiction=branch).exists():
        return f"四张清单评估：{reference}（已发布）与 2022 年评估已存在，跳过。"
    admin = User.objects.get(username="pboc_admin")
    officer = User.objects.get(username="officer_wh")
    evaluation = services.create_evaluation(actor=admin, year=2022, jurisdiction=branch)
    # The demo's 2022年12月 sheets are still in every state of review: read the 定量 indicators at November.
    services.update_scheme(
        actor=admin,
        evaluation=evaluation,
        items={
            item.pk: services.ItemSettings(
                weight=item.weight,
                method=item.method,
                floor_share=item.floor_share,
                indicator_code=item.indicator_code,
                indicator_year=2022,
                indicator_month=11,
            )
            for item in evaluation.items.filter(kind=ItemKind.QUANTITATIVE)
        },
        grading_method=evaluation.grading_method,
        thresholds=evaluation.thresholds,
    )
    counts = services.fetch_inputs(actor=admin, evaluation=evaluation)
    rng = random.Random(2022)
    scored = 0
    items = list(evaluation.items.filter(kind=ItemKind.QUALITATIVE).prefetch_related("criteria"))
    members = (
        Member.objects.filter(evaluation=evaluation)
        .select_related("institution")
        .order_by("institution__order")
    )
    for member in members:
        institution = member.institution
        if institution.code in UNSCORED:
            continue
        for item in items:
            criteria = {
                c.code: str(
                    min(
                        c.max_points,
                        Decimal(rng.randint(int(c.max_points * 55), int(c.max_points * 100))) / 100,
                    ).quantize(Decimal("0.5"))
                )
                for c in item.criteria.all()
            }
            services.score(
                actor=officer,
                evaluation=evaluation,
                institution=institution,
                item=item,
                criteria=criteria,
                comment=rng.choice(COMMENTS[item.code]),
            )
        scored += 1
    icbc = Institution.objects.get(code="ICBC")
    filer = User.objects.filter(institution=icbc, role="bank_filer").first()
    if filer is not None:
        for kind in (ListKind.AUTHORIZATION, ListKind.CREDIT, ListKind.ACCEPTANCE, ListKind.EXEMPTION):
            services.add_evidence(
                actor=filer,
                evaluation=evaluation,
                institution=icbc,
                kind=kind,
                data=demo_pdf(f"ICBC Hubei 2022 {kind} list"),
                filename=f"工商银行2022年{ListKind(kind).label}.pdf",
            )
        services.add_evidence(
            actor=filer,
            evaluation=evaluation,
            institution=icbc,
            kind=ListKind.DISCLOSURE,
            link="https://www.icbc.com.cn/",
            note="官网“普惠金融”栏目公示四张清单",
        )
        services.save_disclosure(
            actor=filer,
            evaluation=evaluation,
            institution=icbc,
            outlets=412,
            outlets_disclosed=405,
            channels="网点公告栏、官网、手机银行",
        )
    return (
        f"四张清单评估：{reference}（由附件1 载入并发布）；{evaluation}（草稿：{scored} 家已评分，"
        f"定量取数 {counts['values']} 个有值、{counts['missing']} 个无数据）"
    )
