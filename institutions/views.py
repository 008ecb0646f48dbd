import segno
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from audit import services as audit
from portal.context import client_ip

from . import access, selectors, services, throttle, totp
from .forms import ApiTokenForm, ChosenRowForm, CodeForm, ThrottledAuthenticationForm


class LoginView(auth_views.LoginView):
    form_class = ThrottledAuthenticationForm
    template_name = "registration/login.html"
    redirect_authenticated_user = True

    def form_valid(self, form):
        user = form.get_user()
        if user.totp_secret:
            # Password checked; the session is not signed in until the second factor is.
            self.request.session[PENDING_2FA] = {
                "user": user.pk,
                "backend": user.backend,
                "next": self.get_success_url(),
            }
            return redirect("login_2fa")
        response = super().form_valid(form)
        audit.record(actor=self.request.user, action="login", summary="登录")
        return response


PENDING_2FA = "pending_2fa"


@never_cache
def login_2fa(request):
    """The second step of signing in for users with a second factor."""
    pending = request.session.get(PENDING_2FA)
    if not pending:
        return redirect("login")
    user = selectors.pending_sign_in(pending["user"])
    if user is None:
        request.session.pop(PENDING_2FA, None)
        return redirect("login")
    form = CodeForm(request.POST or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        ip = client_ip(request)
        key = f"2fa:{user.username}"
        if throttle.is_blocked(key, ip):
            error = gettext("验证码错误次数过多，请 15 分钟后再试。")
        elif services.use_totp_code(user=user, code=form.cleaned_data["code"]):
            throttle.reset(key, ip)
            request.session.pop(PENDING_2FA, None)
            auth_login(request, user, backend=pending["backend"])
            audit.record(actor=user, action="login", summary="登录（两步验证）")
            return redirect(pending["next"] or "home")
        else:
            reached = throttle.record_failure(key, ip)
            audit.record(
                actor=None,
                action="login.2fa_failed",
                obj=user,
                summary=f"{user.username} 两步验证码不正确或已使用过",
            )
            if reached["locked"]:
                audit.record(
                    actor=None,
                    action="login.2fa_locked",
                    obj=user,
                    summary=f"{user.username} 两步验证码错误次数过多，暂停验证 15 分钟",
                )
            error = gettext("验证码不正确或已使用过：请输入验证器应用当前显示的 6 位数字。")
    return render(request, "registration/login_2fa.html", {"form": form, "error": error})


@never_cache
@login_required
def two_factor(request):
    """Turn the second factor on (scan the QR code, confirm a code) or off (confirm a code)."""
    user = request.user
    if not user.is_pboc:
        return render(
            request, "errors/403.html", {"message": "两步验证目前面向人民银行经办和管理员。"}, status=403
        )
    form = CodeForm(request.POST or None)
    setup = request.session.get("totp_setup") or totp.new_secret()
    if request.method == "POST" and form.is_valid():
        try:
            if user.totp_secret:
                services.disable_totp(user=user, code=form.cleaned_data["code"])
                messages.success(request, "已关闭两步验证。")
            else:
                services.enable_totp(user=user, secret=setup, code=form.cleaned_data["code"])
                request.session.pop("totp_setup", None)
                messages.success(request, "已启用两步验证：今后登录需输入验证器应用中的验证码。")
            return redirect("two_factor")
        except services.TwoFactorError as exc:
            messages.error(request, exc.message)
    context = {"enabled": bool(user.totp_secret), "form": form}
    if not user.totp_secret:
        request.session["totp_setup"] = setup
        uri = totp.provisioning_uri(setup, user.username)
        context.update(secret=setup, uri=uri, qr=segno.make(uri, error="m").svg_inline(scale=4))
    return render(request, "registration/two_factor.html", context)


class LogoutView(auth_views.LogoutView):
    def post(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            audit.record(actor=request.user, action="logout", summary="退出登录")
        return super().post(request, *args, **kwargs)


@never_cache
@login_required
def api_token(request):
    """A user's token for /api/v1/: shown once when issued, replaced on request."""
    new_key = None
    form = ApiTokenForm(request.POST if request.method == "POST" else None)
    if form.is_valid() and form.cleaned_data["action"] == "revoke":
        live = selectors.live_api_token(request.user)
        if live and services.revoke_api_token(actor=request.user, token=live):
            messages.success(request, "接口令牌已撤销，使用它的系统将无法再访问。")
    elif form.is_valid():
        new_key = services.rotate_api_token(user=request.user)
    token = selectors.api_key_of(request.user)
    return render(request, "registration/api_token.html", {"token": token, "new_key": new_key})


def _chosen(request, name: str) -> int:
    """The id of the row a POST acts on; no id is a 404, as another jurisdiction's row is."""
    form = ChosenRowForm(request.POST, name=name)
    if not form.is_valid() or form.cleaned_data["pk"] is None:
        raise Http404
    return form.cleaned_data["pk"]


@never_cache
@login_required
def api_tokens(request):
    """Issued API tokens with their last use and revocation: a PBoC admin sees those of their jurisdiction,
    everyone else their own (access.visible_api_tokens); each live one can be revoked here."""
    tokens = access.visible_api_tokens(request.user)
    if request.method == "POST":
        chosen = _chosen(request, "token")
        token = get_object_or_404(tokens, pk=chosen)  # another jurisdiction's token is a 404 too
        if services.revoke_api_token(actor=request.user, token=token):
            messages.success(
                request,
                gettext("已撤销 %(user)s 的接口令牌 %(prefix)s…，使用它的系统将无法再访问。")
                % {"user": token.user.username, "prefix": token.key_prefix},
            )
        else:
            messages.info(request, gettext("该令牌此前已被撤销。"))
        return redirect(request.get_full_path())
    status = request.GET.get("status", "")
    shown = selectors.api_tokens_shown(tokens, status)
    return render(
        request,
        "registration/api_tokens.html",
        {
            "page": Paginator(shown, 50).get_page(request.GET.get("page")),
            "status": status,
            "jurisdiction": access.is_pboc_admin(request.user),
        },
    )


@never_cache
@login_required
@require_safe
def keepalive(request):
    """The session-expiry warning's "继续使用": any authenticated request renews the session."""
    return HttpResponse(status=204)


class PasswordChangeView(auth_views.PasswordChangeView):
    """Every signed-in user changes their own password; the policy's messages are Django's, in Chinese."""

    template_name = "registration/password_change_form.html"

    def form_valid(self, form):
        response = super().form_valid(form)
        audit.record(
            actor=self.request.user,
            action="password.change",
            obj=self.request.user,
            summary="修改密码",
        )
        return response


class PasswordChangeDoneView(auth_views.PasswordChangeDoneView):
    template_name = "registration/password_change_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """The e-mailed one-time link of an admin-initiated reset (services.request_password_reset)."""

    template_name = "registration/password_reset_confirm.html"

    def form_valid(self, form):
        response = super().form_valid(form)
        user = form.user
        audit.record(
            actor=None,
            action="password.reset",
            obj=user,
            institution=user.institution,
            summary=f"{user.username} 通过重置链接设置了新密码",
        )
        return response


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "registration/password_reset_complete.html"


@never_cache
@login_required
def user_passwords(request):
    """A PBoC admin (or system admin) has a one-time password-reset link e-mailed to a user they manage."""
    managed = access.managed_users(request.user)
    access.require(
        access.is_pboc_admin(request.user) or request.user.is_superuser, "仅管理员可以重置他人密码。"
    )
    if request.method == "POST":
        target = get_object_or_404(managed, pk=_chosen(request, "user"))
        try:
            services.request_password_reset(
                actor=request.user,
                user=target,
                base_url=request.build_absolute_uri("/"),
            )
        except services.PasswordResetError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request, gettext("已向 %(user)s 的登记邮箱发送重置密码链接。") % {"user": target.username}
            )
        return redirect("user_passwords")
    shown = selectors.active_users(managed)
    return render(
        request,
        "registration/user_passwords.html",
        {"page": Paginator(shown, 50).get_page(request.GET.get("page"))},
    )
