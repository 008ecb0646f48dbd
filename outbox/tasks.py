from celery import shared_task

from . import services


@shared_task(name="outbox.deliver_pending", acks_late=True)
def deliver_pending() -> int:
    """Beat, every 30 s: send what the broker could not take when it was queued."""
    return services.deliver_pending()
