"""What indicators does when reporting announces a change (reporting/events.py), connected in
IndicatorsConfig.ready: the one place where reporting's news turns into cache renewals and refresh requests."""

from . import dashcache, services
from .models import RefreshRun


def filings_changed(**_payload) -> None:
    """Versions stored or periods set up: the filing rates the dashboard shows have moved."""
    dashcache.renew_filings_on_commit()


def filing_transitioned(*, filing, status: str, **_payload) -> None:
    """A workflow step: an approval, or an approved sheet reopened, changes what the indicators are computed
    from (services.refresh_after_transition decides)."""
    services.refresh_after_transition(filing=filing, status=status)


def sheets_approved(*, changes, **_payload) -> None:
    """Sheets approved by an officer's import: one refresh of what they all reach."""
    services.request_refresh(trigger=RefreshRun.Trigger.APPROVAL, changes=changes)
