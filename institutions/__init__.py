"""Master data and people: regions, PBoC offices, the institutions in their evaluation groups, 附件2
contacts, users with their roles, sign-in (throttled, two-factor) and API tokens.

Owns `access.py`, the one place that decides who sees which institution. May import: the ground floor
(`portal`'s shared pieces, `audit` writing, `outbox`) — nothing above it (tests/portal/test_layers.py).
"""
