"""A PBoC officer's bulk import: one workbook, many institutions and/or months, run as a tracked job.

Rows are read with python-calamine, each validated by the same rules as a bank's own filing. A clean row
becomes a new version, approved on import (the PBoC entered it; the transition says so). A row with errors
is not stored and is listed in the job's result with its cells. Filings already submitted or approved are
not overwritten. The job row records progress, so a worker killed half-way resumes where it stopped.
"""

from django.db import transaction
from django.utils import timezone

from institutions import access

from . import excel, services
from .definitions import definition_for
from .models import Form, ImportJob, Period, VersionSource
from .uploads import UploadRejected

PROGRESS_EVERY = 25


def process(job: ImportJob) -> None:
    actor = job.created_by
    try:
        data = job.upload.open("rb").read()
        total, rows = excel.iter_bulk_rows(data, definition_for(Form.MONITORING, timezone.localdate().year))
    except UploadRejected as exc:
        _finish(job, ImportJob.Status.FAILED, error=exc.message)
        return
    institutions = {i.code: i for i in access.visible_institutions(actor)}
    periods = {(p.year, p.month): p for p in Period.objects.filter(form=Form.MONITORING)}
    result = dict(job.result or {})
    result.setdefault("stored", 0)
    result.setdefault("rejected", [])
    result.setdefault("skipped", [])
    job.total = total
    done = job.processed
    for index, row in enumerate(rows):
        if index < done:
            continue  # resumed job: these rows were handled before the worker stopped
        problem = row.error or _problem(row, institutions, periods)
        if problem:
            result["rejected"].append(
                {"row": row.row, "institution": row.institution_code, "message": problem}
            )
        else:
            _store(row, institutions[row.institution_code], periods[(row.year, row.month)], actor, result)
        job.processed = index + 1
        if job.processed % PROGRESS_EVERY == 0 or job.processed == total:
            job.result = result
            job.save(update_fields=["processed", "total", "result"])
    _finish(job, ImportJob.Status.DONE, result=result)
    if result["stored"]:
        # One recomputation for the whole import, not one per approved row.
        from indicators.models import RefreshRun
        from indicators.services import request_refresh

        request_refresh(trigger=RefreshRun.Trigger.APPROVAL)


def _problem(row, institutions, periods) -> str | None:
    if row.institution_code not in institutions:
        return f"第 {row.row} 行：机构代码“{row.institution_code}”不存在或不在您的辖区内。"
    if (row.year, row.month) not in periods:
        return f"第 {row.row} 行：{row.year}年{row.month}月 不是已设置的报送期。"
    return None


def _store(row, institution, period, actor, result) -> None:
    cells = row.cells
    try:
        with transaction.atomic():
            version = services.save_version(
                institution=institution,
                period=period,
                actor=actor,
                raw=row.raw,
                source=VersionSource.BULK,
                locate=lambda code: cells.get(code, code),
            )
            errors = [f for f in version.findings if f["severity"] == "error"]
            if errors:
                raise services.ServiceError(
                    "；".join(f"{f['location']}：{f['message']}" for f in errors[:5]), code="has_errors"
                )
            services.approve_imported(filing=version.filing, actor=actor)
        result["stored"] += 1
    except services.ServiceError as exc:
        target = "skipped" if exc.code == "locked" else "rejected"
        result[target].append({"row": row.row, "institution": institution.code, "message": exc.message})


def _finish(job: ImportJob, status: str, *, result=None, error: str = "") -> None:
    job.status = status
    job.error = error
    if result is not None:
        job.result = result
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "error", "result", "finished_at", "processed", "total"])
