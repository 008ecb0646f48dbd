"""The project, and the ground floor every app stands on.

Ground floor — any app may import these, and they import no app: `errors.py` (the service refusals and how
they reach the API and pages), `context.py` (the client's address for the audit log), `exports.py`
(`safe_text`), `forms.py` (form fields as typed), `api.py` (the API's one error shape, paging), `bulkdb.py`
(COPY and set-based UPDATE), `clock.py` (the demo clock), `jobs.py` (job rows with a heartbeat), `celery.py`.

Project wiring — may import every app, and no app imports it: `settings.py`, `urls.py`, `api_urls.py`,
`views.py` (home, /healthz, error pages), `middleware.py`, `processes.py`, `management/commands/loaddemo.py`
(tests/portal/test_layers.py).
"""

from .celery import app as celery_app

__all__ = ("celery_app",)
