from django.contrib import admin
from django.contrib.auth.decorators import login_required
from django.urls import include, path
from django.views.i18n import set_language
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from institutions import views as institution_views

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("accounts/login/", institution_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", institution_views.LogoutView.as_view(), name="logout"),
    path("accounts/token/", institution_views.api_token, name="api_token"),
    path("accounts/tokens/", institution_views.api_tokens, name="api_tokens"),
    path("accounts/keepalive/", institution_views.keepalive, name="keepalive"),
    path("accounts/2fa/", institution_views.two_factor, name="two_factor"),
    path("accounts/login/2fa/", institution_views.login_2fa, name="login_2fa"),
    path("accounts/password_change/", institution_views.PasswordChangeView.as_view(), name="password_change"),
    path(
        "accounts/password_change/done/",
        institution_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path(
        "accounts/reset/<uidb64>/<token>/",
        institution_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "accounts/reset/done/",
        institution_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("accounts/users/", institution_views.user_passwords, name="user_passwords"),
    path("audit/", include("audit.urls")),
    path("i18n/setlang/", set_language, name="set_language"),
    path("reporting/", include("reporting.urls")),
    path("indicators/", include("indicators.urls")),
    path("evaluation/", include("evaluation.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include("portal.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's init script as a file, as the Content-Security-Policy requires.
    path(
        "api/docs/",
        # signed-in users only, as the schema (SPECTACULAR_SETTINGS): a browser is sent to the login page
        login_required(
            SpectacularSwaggerSplitView.as_view(url_name="schema", template_name="api/swagger_ui.html")
        ),
        name="api-docs",
    ),
]

handler400 = "portal.views.bad_request"
handler403 = "portal.views.permission_denied"
handler404 = "portal.views.page_not_found"
handler500 = "portal.views.server_error"
