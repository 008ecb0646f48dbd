"""API authentication: `Authorization: Token <key>`, bound to the token's record (models.ApiToken)."""

from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions
from rest_framework.authtoken.models import Token

from .models import ApiToken

# Recording every request's use would be a write per API call; a minute's precision is enough to tell a
# token in use from a forgotten one.
LAST_USED_PRECISION = timedelta(minutes=1)


class TokenAuthentication(authentication.TokenAuthentication):
    """DRF's token scheme, acting for exactly the institution (or PBoC office) the token was issued for: if
    the user has since been moved elsewhere, the token stops working instead of following them. The token,
    its user and its record come in one query; the last use is written at most once a minute."""

    def authenticate_credentials(self, key):
        token = Token.objects.select_related("user", "record").filter(key=key).first()
        # a token without a record cannot happen through the portal (signals.py); never honour one
        record = getattr(token, "record", None) if token else None
        if record is None:
            raise exceptions.AuthenticationFailed(_("令牌无效或已撤销。"))
        user = token.user
        if not user.is_active:
            raise exceptions.AuthenticationFailed(_("该账号已停用，请联系人民银行管理员。"))
        if not record.issued_for(user):
            raise exceptions.AuthenticationFailed(
                _("该令牌签发时的所属机构与账号当前的归属不一致，已失效：请重新生成令牌。")
            )
        now = timezone.now()
        if record.last_used_at is None or now - record.last_used_at >= LAST_USED_PRECISION:
            ApiToken.objects.filter(pk=record.pk).update(last_used_at=now)
        return user, token
