"""Celery tasks of the institutions app."""

from celery import shared_task
from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import send_mail
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from .models import User


@shared_task(name="institutions.send_password_reset", acks_late=True)
def send_password_reset(user_id: int, base_url: str) -> int:
    """E-mail the one-time link an admin asked for (services.request_password_reset). Django's token is
    bound to the password and the last sign-in, so it stops working once used, and it expires after
    settings.PASSWORD_RESET_TIMEOUT."""

    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None or not user.email:
        return 0
    path = reverse(
        "password_reset_confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    hours = settings.PASSWORD_RESET_TIMEOUT // 3600
    body = (
        f"{user}，您好：\n\n人民银行管理员为您的账号 {user.username} 发起了密码重置。请在 {hours} 小时内打开下面的链接设置新密码"
        f"（链接只能使用一次）：\n\n{base_url.rstrip('/')}{path}\n\n如非本人知情，请联系人民银行管理员。\n"
    )
    return send_mail("小微企业专项行动门户：重置密码", body, None, [user.email])
