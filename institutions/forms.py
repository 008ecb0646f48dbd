"""The input of the sign-in and account pages: the password (throttled), the second factor's code, and the
token or user an admin acts on."""

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from portal.context import client_ip
from portal.forms import DigitsField, RawField

from . import services, throttle
from .models import User


class ThrottledAuthenticationForm(AuthenticationForm):
    error_messages = {
        "invalid_login": _("用户名或密码不正确，请重新输入。注意密码区分大小写。"),
        "inactive": _("该账号已停用，请联系人民银行管理员。"),
        "throttled": _("登录失败次数过多，请 15 分钟后再试，或联系管理员重置密码。"),
    }

    def clean(self):
        username = self.data.get("username", "")
        ip = client_ip(self.request) if self.request else None
        throttled = forms.ValidationError(self.error_messages["throttled"], code="throttled")
        if throttle.is_locked(username, ip):
            raise throttled  # audited once, when the lock began
        busy = throttle.address_is_busy(ip)
        if busy and not User._default_manager.filter(username=username, is_active=True).exists():
            raise throttled  # no password hashed for a name that is no account
        try:
            cleaned = super().clean()
        except forms.ValidationError:
            reached = throttle.record_failure(username, ip)
            services.record_login_failure(username=username, ip=ip, **reached)
            if busy:
                raise throttled from None  # the same answer as for an unknown name from this address
            raise
        throttle.reset(username, ip)
        return cleaned


class CodeForm(forms.Form):
    code = forms.CharField(label=_("验证码"), max_length=10)


class ApiTokenForm(forms.Form):
    """The user's own token: action=revoke withdraws it, any other post issues a new one."""

    action = RawField()

    def clean_action(self) -> str:
        return "revoke" if self.cleaned_data["action"] == "revoke" else "rotate"


class ChosenRowForm(forms.Form):
    """The row an admin acts on, by its id; anything but an id is no row (the page answers 404)."""

    def __init__(self, data, *, name: str, **kwargs):
        super().__init__(data, **kwargs)
        self.name = name
        self.fields[name] = DigitsField()

    def clean(self):
        cleaned = super().clean()
        cleaned["pk"] = cleaned.get(self.name)
        return cleaned
