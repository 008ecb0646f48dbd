"""The audit browser speaks the portal's words: 退回报表 rather than `filing.return`, 已提交 → 已退回 rather than
`['submitted', 'returned']`; the log itself keeps the codes (and the filter still selects by them)."""

from django.urls import reverse
from django.utils import translation

from audit import services
from audit.labels import action_label, changes_display


@translation.override("zh-hans")
def test_codes_read_as_names_and_changes_as_old_to_new(db):
    assert action_label("filing.return") == "退回报表"
    assert action_label("institution.update") == "修改金融机构"
    assert action_label("user.create") == "新增用户"  # the admin's master-data edits (audit/adminlog.py)
    assert action_label("something.unknown") == "something.unknown"
    assert changes_display({"status": ["submitted", "returned"], "reason": "口径不一致"}) == [
        ("状态", "已提交 → 已退回"),
        ("原因", "口径不一致"),
    ]
    assert changes_display({"loan_balance": ["100.0000", "120.0000"]}) == [
        ("普惠小微贷款余额", "100.0000 → 120.0000")
    ]
    assert changes_display({"approve": True, "grade": [None, "excellent"]}) == [
        ("同时通过", "是"),
        ("评级", "— → 优秀"),
    ]


def test_the_audit_page_shows_labels_not_codes(users, master, client_for):
    services.record(
        actor=users["officer_branch"],
        action="filing.return",
        institution=master["A"],
        summary="工商银行 2022年12月 退回：口径不一致",
        changes={"status": ["submitted", "returned"], "reason": "口径不一致"},
    )
    page = client_for("pboc_admin").get(reverse("audit:log")).content.decode()
    assert "退回报表" in page and "已提交 → 已退回" in page
    assert "<code>filing.return</code>" not in page and "[&#x27;submitted&#x27;" not in page
    assert '<option value="filing.return">退回报表</option>' in page
    only = client_for("pboc_admin").get(reverse("audit:log"), {"action": "filing.return"}).content.decode()
    assert "口径不一致" in only


def test_the_names_have_english(db):
    with translation.override("en"):
        assert action_label("filing.return") == "Return sent back"
        assert changes_display({"status": ["submitted", "returned"]}) == [("Status", "Submitted → Returned")]
