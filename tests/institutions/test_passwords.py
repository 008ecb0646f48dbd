"""Users change their own passwords; an admin has a one-time, expiring reset link e-mailed; the policy speaks
Chinese; the demo password satisfies it; every step is audited."""

import re

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core import mail
from django.urls import reverse

from audit.models import AuditEntry
from institutions.demo import DEMO_PASSWORD, DEMO_USERS
from institutions.models import User
from tests.factories import PASSWORD

NEW = "Hubei-PSBC-2023-report"


def test_the_demo_password_satisfies_the_policy_for_every_demo_account():
    for username, *_rest in DEMO_USERS:
        validate_password(DEMO_PASSWORD, User(username=username, email=f"{username}@demo.portal.invalid"))


@pytest.mark.parametrize("who", ["filer_a", "officer_in", "pboc_admin"])
def test_every_signed_in_user_changes_their_own_password_and_it_is_audited(client_for, users, who):
    client = client_for(who)
    assert client.get(reverse("password_change")).status_code == 200
    response = client.post(
        reverse("password_change"), {"old_password": PASSWORD, "new_password1": NEW, "new_password2": NEW}
    )
    assert response.status_code == 302 and response["Location"] == reverse("password_change_done")
    assert User.objects.get(username=who).check_password(NEW)
    assert AuditEntry.objects.filter(action="password.change", actor=users[who]).count() == 1


def test_a_weak_new_password_is_refused_with_the_policy_in_chinese(client_for, users):
    response = client_for("filer_a").post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": "12345", "new_password2": "12345"},
    )
    page = response.content.decode()
    assert response.status_code == 200 and "密码" in page and ("太短" in page or "至少" in page)
    assert "This password" not in page
    assert User.objects.get(username="filer_a").check_password(PASSWORD)


def test_password_change_needs_a_sign_in(client):
    assert reverse("login") in client.get(reverse("password_change"))["Location"]


def reset_link(client, users, settings, django_capture_on_commit_callbacks, target="filer_a") -> str:
    settings.CELERY_TASK_ALWAYS_EAGER = True
    users[target].email = f"{target}@bank.example"
    users[target].save()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("user_passwords"), {"user": users[target].pk})
    assert response.status_code == 302
    [message] = mail.outbox
    assert message.to == [f"{target}@bank.example"]
    return re.search(r"https?://\S+", message.body).group(0)


def test_an_admin_emails_a_one_time_reset_link_that_sets_a_new_password_once(
    client_for, client, users, settings, django_capture_on_commit_callbacks
):
    admin = client_for("pboc_admin")
    link = reset_link(admin, users, settings, django_capture_on_commit_callbacks)
    assert AuditEntry.objects.filter(action="password.reset_link", actor=users["pboc_admin"]).count() == 1
    admin.logout()

    form = client.get(link, follow=True)
    assert form.status_code == 200 and 'id="password-reset"' in form.content.decode()
    done = client.post(form.redirect_chain[-1][0], {"new_password1": NEW, "new_password2": NEW})
    assert done.status_code == 302 and User.objects.get(username="filer_a").check_password(NEW)
    assert AuditEntry.objects.filter(action="password.reset", object_id=str(users["filer_a"].pk)).count() == 1

    again = client.get(link, follow=True).content.decode()  # the same link a second time
    assert 'id="invalid-link"' in again


def test_a_reset_link_expires(client_for, client, users, settings, django_capture_on_commit_callbacks):
    link = reset_link(client_for("pboc_admin"), users, settings, django_capture_on_commit_callbacks)
    client.logout()
    settings.PASSWORD_RESET_TIMEOUT = -1  # every link is now older than the time it was good for
    page = client.get(link, follow=True).content.decode()
    assert 'id="invalid-link"' in page


def test_only_admins_reset_and_only_users_they_manage(client_for, users, master):
    assert client_for("filer_a").get(reverse("user_passwords")).status_code == 403
    assert (
        client_for("officer_in").post(reverse("user_passwords"), {"user": users["filer_b"].pk}).status_code
        == 403
    )
    # 宜昌's admin manages none of the provincial institutions' users
    from tests.factories import make_user

    make_user("admin_yc", "pboc_admin", office=master["office_out"])
    assert (
        client_for_user(client_for, "admin_yc")
        .post(reverse("user_passwords"), {"user": users["filer_a"].pk})
        .status_code
        == 404
    )
    assert not AuditEntry.objects.filter(action="password.reset_link").exists()


def client_for_user(client_for, username):
    client = client_for("filer_a")
    client.force_login(User.objects.get(username=username))
    return client
