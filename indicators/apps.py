from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save
from django.utils.translation import gettext_lazy as _


class IndicatorsConfig(AppConfig):
    name = "indicators"
    verbose_name = _("监测指标")

    def ready(self) -> None:
        from institutions.models import Institution, PbocOffice
        from reporting import events
        from reporting.models import Filing, Period

        from . import dashcache, receivers
        from .models import RefreshRun, SupervisionAction, Target

        # whatever the cached dashboard body shows (dashcache.py)
        for model in (RefreshRun, Target, SupervisionAction, Institution, PbocOffice):
            for name, signal in (("save", post_save), ("delete", post_delete)):
                signal.connect(
                    dashcache.renew_on_commit, sender=model, dispatch_uid=f"dashcache.{model.__name__}.{name}"
                )
        # what reporting announces (its set-based writers send no post_save; its workflow steps' follow-ups;
        # its imports' approvals): indicators/receivers.py
        events.filings_changed.connect(receivers.filings_changed, dispatch_uid="indicators.filings_changed")
        events.filing_transitioned.connect(
            receivers.filing_transitioned, dispatch_uid="indicators.transitioned"
        )
        events.sheets_approved.connect(receivers.sheets_approved, dispatch_uid="indicators.sheets_approved")
        for model in (Filing, Period):
            for name, signal in (("save", post_save), ("delete", post_delete)):
                signal.connect(
                    dashcache.renew_filings_on_commit,
                    sender=model,
                    dispatch_uid=f"dashcache.filings.{model.__name__}.{name}",
                )
