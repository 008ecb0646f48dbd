"""Upload hostile files in a fresh, memory-limited process and report, one JSON line per step, what the
portal answered and how much memory the request took.

tests/reporting/test_hostile_uploads.py runs the files that can blow up (zip bombs, huge sheets, a cell at XFD1048576)
here: if the portal's code aborts or exhausts memory, the test sees a dead child and reports it, instead
of the test runner dying with it. The spec comes on stdin:

    {"database_url": ..., "address_space": bytes, "steps": [
        {"channel": "web" | "api" | "reader", "target": "monthly" | "plan" | "document" | "bulk",
         "path": ..., "name": ..., "username": ..., "institution": pk, "period": pk}]}

Peak memory is per step: Linux lets a process reset its resident-set high-water mark (/proc/self/clear_refs,
"5"), so VmHWM after the step minus VmRSS before it is what the step added at its worst.
"""

import html
import json
import os
import re
import resource
import sys
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} missing from /proc/self/status")


def _reset_peak() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


class Peak:
    """Peak RSS growth of a block, in MB."""

    def __enter__(self):
        self.resettable = _reset_peak()
        self.before = (
            _status_kb("VmRSS") if self.resettable else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        )
        return self

    def __exit__(self, *exc):
        after = _status_kb("VmHWM") if self.resettable else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        self.growth_mb = round(max(0, after - self.before) / 1024, 1)
        return False


_MESSAGES = re.compile(r'<ul class="messages">(.*?)</ul>', re.S)


def _messages(page: str) -> str:
    found = _MESSAGES.search(page)
    return html.unescape(re.sub(r"<[^>]+>", " ", found.group(1))) if found else ""


def web(step) -> dict:
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test import Client
    from django.urls import reverse

    from institutions.models import User

    client = Client(raise_request_exception=False)
    client.force_login(User.objects.get(username=step["username"]))
    data = Path(step["path"]).read_bytes()
    if step["target"] == "bulk":
        url = reverse("reporting:bulk_import")
    else:
        name = "reporting:document" if step["target"] == "document" else "reporting:upload"
        url = reverse(name, args=[step["institution"], step["period"]])
    with Peak() as peak:
        response = client.post(url, {"file": SimpleUploadedFile(step["name"], data)})
    result = {
        "status": response.status_code,
        "growth_mb": peak.growth_mb,
        "location": response.get("Location"),
    }
    page = response.content.decode("utf-8", "replace")
    if response.status_code == 302:
        page = client.get(response["Location"]).content.decode("utf-8", "replace")
    result["messages"] = _messages(page)
    result["traceback"] = "Traceback" in page
    return result


def api(step) -> dict:
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    from institutions.models import User

    token, _ = Token.objects.get_or_create(user=User.objects.get(username=step["username"]))
    client = APIClient(raise_request_exception=False)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    what = "document" if step["target"] == "document" else "workbook"
    url = f"/api/v1/institutions/{step['institution']}/periods/{step['period']}/{what}/"
    upload = BytesIO(Path(step["path"]).read_bytes())
    upload.name = step["name"]
    with Peak() as peak:
        response = client.post(url, {"file": upload}, format="multipart")
    try:
        body = response.json()
    except ValueError:
        body = {"raw": response.content[:500].decode("utf-8", "replace")}
    return {"status": response.status_code, "growth_mb": peak.growth_mb, "body": body}


def reader(step) -> dict:
    """What the Celery task of a bulk import does with the file (reporting.bulk.process, before the rows)."""
    from django.utils import timezone

    from reporting import excel
    from reporting.definitions import definition_for
    from reporting.models import Form
    from reporting.uploads import UploadRejected

    data = Path(step["path"]).read_bytes()
    with Peak() as peak:
        try:
            total, rows = excel.iter_bulk_rows(
                data, definition_for(Form.MONITORING, timezone.localdate().year)
            )
            outcome = {"rows": total, "read": sum(1 for _ in rows)}
        except UploadRejected as exc:
            outcome = {"code": exc.code, "message": exc.message}
    return {**outcome, "growth_mb": peak.growth_mb}


def main() -> int:
    spec = json.loads(sys.stdin.read())
    limit = spec["address_space"]
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    os.environ["DATABASE_URL"] = spec["database_url"]
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    for step in spec["steps"]:
        result = {"web": web, "api": api, "reader": reader}[step["channel"]](step)
        print(json.dumps({"channel": step["channel"], **result}, ensure_ascii=False), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
