from django import forms
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from rest_framework.authtoken.models import Token

from audit import services as audit

from . import services, throttle


def client_ip(request) -> str | None:
    return request.META.get("REMOTE_ADDR")


class ThrottledAuthenticationForm(AuthenticationForm):
    error_messages = {
        "invalid_login": _("用户名或密码不正确，请重新输入。注意密码区分大小写。"),
        "inactive": _("该账号已停用，请联系人民银行管理员。"),
        "throttled": _("登录失败次数过多，请 15 分钟后再试，或联系管理员重置密码。"),
    }

    def clean(self):
        username = self.data.get("username", "")
        ip = client_ip(self.request) if self.request else None
        if throttle.is_blocked(username, ip):
            raise forms.ValidationError(self.error_messages["throttled"], code="throttled")
        try:
            cleaned = super().clean()
        except forms.ValidationError:
            throttle.record_failure(username, ip)
            raise
        throttle.reset(username)
        return cleaned


class LoginView(auth_views.LoginView):
    form_class = ThrottledAuthenticationForm
    template_name = "registration/login.html"
    redirect_authenticated_user = True

    def form_valid(self, form):
        response = super().form_valid(form)
        audit.record(actor=self.request.user, action="login", summary="登录", ip=client_ip(self.request))
        return response


class LogoutView(auth_views.LogoutView):
    pass


@never_cache
@login_required
def api_token(request):
    """A user's token for /api/v1/: shown once when issued, replaced on request."""
    new_key = None
    if request.method == "POST":
        new_key = services.rotate_api_token(user=request.user, ip=client_ip(request))
    token = Token.objects.filter(user=request.user).first()
    return render(request, "registration/api_token.html", {"token": token, "new_key": new_key})


@never_cache
@login_required
def keepalive(request):
    """The session-expiry warning's "继续使用": any authenticated request renews the session."""
    return HttpResponse(status=204)
