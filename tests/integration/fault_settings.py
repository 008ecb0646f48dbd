"""The portal's settings for the worker that takes over after another worker was killed
(tests/integration/test_faults.py), with a Redis visibility timeout of seconds instead of an hour.

With Redis as the broker, a task that a killed worker had received but not acknowledged (acks_late) stays in
the broker's "unacked" set until its visibility timeout expires; only then does a live worker put it back
in the queue. portal/settings.py sets 3600 s, so in production a bulk import whose worker died is picked up
again after about an hour. This module changes nothing else.
"""

from portal.settings import *  # noqa: F403
from portal.settings import CELERY_BROKER_TRANSPORT_OPTIONS

CELERY_BROKER_TRANSPORT_OPTIONS = {
    **CELERY_BROKER_TRANSPORT_OPTIONS,
    "visibility_timeout": 3,
    "unacked_restore_interval": 1,
    "unacked_restore_throttle": 1,
}
