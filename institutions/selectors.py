"""Reads for the account pages (who may see which institution is institutions.access)."""

from rest_framework.authtoken.models import Token

from . import access
from .models import ApiToken, User


def visible_in_order(user):
    """The institutions the user may see (`access.visible_institutions`), in the notice's order."""
    return access.visible_institutions(user).order_by("order")


def visible_ids(user) -> set[int]:
    """The ids of the institutions the user may see."""
    return set(access.visible_institutions(user).values_list("pk", flat=True))


TOKEN_STATUSES = {"active": {"token__isnull": False}, "revoked": {"token__isnull": True}}


def api_tokens_shown(tokens, status: str = ""):
    """The token records a page lists (of those the user may see, `access.visible_api_tokens`): live or
    revoked ones when `status` says so, with who holds and who revoked each."""
    return tokens.filter(**TOKEN_STATUSES.get(status, {})).select_related(
        "user", "institution", "office", "revoked_by"
    )


def active_users(managed):
    """The active ones of the users an admin manages (`access.managed_users`), by username."""
    return managed.filter(is_active=True).select_related("institution", "office").order_by("username")


def pending_sign_in(pk) -> User | None:
    """The active user whose password was checked and whose second factor is awaited."""
    return User.objects.filter(pk=pk, is_active=True).first()


def live_api_token(user) -> ApiToken | None:
    """The user's own token record that still has a live key."""
    return ApiToken.objects.filter(user=user, token__isnull=False).first()


def api_key_of(user) -> Token | None:
    """The user's current key for /api/v1/ (none if never issued or revoked)."""
    return Token.objects.filter(user=user).first()
