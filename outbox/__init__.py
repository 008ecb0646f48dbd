"""The task outbox: a Celery task queued by a state change is stored in that change's transaction and sent
once it commits; what the broker could not take the beat sends again.

Owns `PendingTask` and `services.enqueue`. May import: the ground floor (`portal`). Part of the ground floor
itself — every app may queue through it (tests/portal/test_layers.py).
"""
