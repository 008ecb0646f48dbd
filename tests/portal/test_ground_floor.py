"""The ground floor every app stands on (portal/errors.py, portal/context.py, portal/exports.py): one
hierarchy of refusals with one way to the API and to a page, and the client's address carried from the
request to the audit log without any service being handed it."""

import ast
import json
from pathlib import Path

import pytest
from django.contrib.messages import get_messages
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.exceptions import PermissionDenied
from django.test import RequestFactory

from audit import services as audit
from audit.models import AuditEntry
from portal import context, errors
from reporting import rules

ROOT = Path(__file__).resolve().parents[2]
PRODUCT = ("audit", "evaluation", "indicators", "institutions", "outbox", "portal", "reporting")


def _refused(path: str, exc: errors.ServiceError):
    middleware = errors.ServiceErrorMiddleware(lambda request: None)
    request = RequestFactory().post(path)
    request.user = None
    return middleware.process_exception(request, exc)


def test_an_uncaught_refusal_under_the_api_keeps_its_status_code_and_details():
    finding = rules.Finding(
        rule="E201", severity=rules.ERROR, location="C7", message="贷款余额不能为负。", field="balance"
    )
    response = _refused(
        "/api/v1/filings/1/submit/",
        errors.ServiceError("还有 1 个错误。", code="has_errors", details=[finding]),
    )
    body = json.loads(response.content)
    assert response.status_code == 400 and body["error"]["code"] == "has_errors"
    assert body["error"]["message"] == "还有 1 个错误。"
    assert body["error"]["details"][0]["location"] == "C7"


@pytest.mark.django_db
def test_an_uncaught_refusal_of_a_page_is_a_page_with_its_message_and_status():
    response = _refused("/reporting/", errors.Conflict("该报表已被他人修改，请刷新后重试。"))
    assert response.status_code == 409
    assert "该报表已被他人修改，请刷新后重试。" in response.content.decode()


def test_a_refusal_that_is_not_a_service_error_is_left_to_django():
    assert (
        errors.ServiceErrorMiddleware(lambda r: None).process_exception(RequestFactory().get("/"), KeyError())
        is None
    )


def test_require_refuses_with_forbidden_and_its_reason():
    errors.require(True, "不会出现")
    with pytest.raises(errors.Forbidden, match="只有人民银行管理员"):
        errors.require(False, "只有人民银行管理员可以调整报送期。")
    assert errors.Forbidden("x").status == 403 and errors.Conflict("x").code == "conflict"


@pytest.mark.django_db
def test_a_service_called_by_a_view_records_the_address_of_the_request(client_for):
    client = client_for("filer_a")
    response = client.post("/accounts/token/", {"action": "rotate"}, REMOTE_ADDR="198.51.100.7")
    assert response.status_code == 200
    entry = AuditEntry.objects.get(action__in=["api_token.create", "api_token.rotate"])
    assert entry.ip == "198.51.100.7"


@pytest.mark.django_db
def test_outside_a_request_the_audit_entry_has_no_address(users):
    assert context.current_ip() is None
    entry = audit.record(actor=users["pboc_admin"], action="probe", summary="后台任务")
    assert entry.ip is None
    with context.acting_from("203.0.113.9"):
        inner = audit.record(actor=users["pboc_admin"], action="probe", summary="请求中")
    assert inner.ip == "203.0.113.9" and context.current_ip() is None


def _definitions(name: str) -> list[str]:
    found = []
    for app in PRODUCT:
        for path in (ROOT / app).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.ClassDef | ast.FunctionDef) and node.name == name:
                    found.append(path.relative_to(ROOT).as_posix())
    return found


@pytest.mark.parametrize(
    ("name", "home"),
    [
        ("ServiceError", "portal/errors.py"),
        ("Forbidden", "portal/errors.py"),
        ("Conflict", "portal/errors.py"),
        ("client_ip", "portal/context.py"),
        ("safe_text", "portal/exports.py"),
    ],
)
def test_each_ground_floor_piece_is_written_once(name, home):
    assert _definitions(name) == [home]


def test_no_service_is_handed_the_client_address():
    """The audit context carries it; an `ip` parameter on a service would be a second way that drifts."""
    offenders = []
    for app in PRODUCT:
        for path in (ROOT / app).rglob("services.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.FunctionDef):
                    names = [a.arg for a in (*node.args.args, *node.args.kwonlyargs)]
                    if "ip" in names and node.name != "record_login_failure":
                        offenders.append(f"{path.relative_to(ROOT)}:{node.name}")
    assert offenders == []


def test_a_caught_refusal_shows_its_message_and_findings_and_a_refusal_of_the_role_is_a_403():
    request = RequestFactory().post("/reporting/")
    request._messages = CookieStorage(request)
    finding = rules.Finding(
        rule="E201", severity=rules.ERROR, location="C7", message="贷款余额不能为负。", field="x"
    )
    errors.show_refusal(
        request, errors.ServiceError("还有 1 个错误。", details=[finding, "已在说明中的文字"])
    )
    assert [m.message for m in get_messages(request)] == ["还有 1 个错误。", "C7：贷款余额不能为负。"]
    with pytest.raises(PermissionDenied, match="只有本机构的填报人"):
        errors.show_refusal(request, errors.Forbidden("只有本机构的填报人或分管领导可以填报。"))
