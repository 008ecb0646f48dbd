from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InstitutionsConfig(AppConfig):
    name = "institutions"
    verbose_name = _("机构与用户")

    def ready(self) -> None:
        from . import signals  # noqa: F401 — connects the API token record (signals.py)
