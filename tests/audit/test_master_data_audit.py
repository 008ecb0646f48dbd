"""Master data edited in the Django admin is audited: who, when, what (old → new), secrets never written."""

import pytest
from django.test import Client
from django.urls import reverse

from audit.models import AuditEntry
from institutions.models import Contact, ContactRole, Region, Role
from tests.factories import make_user


@pytest.fixture
def admin_client(master):
    root = make_user("root", Role.SYSADMIN, office=master["branch"])
    root.is_staff = root.is_superuser = True
    root.save()
    client = Client()
    client.force_login(root)
    return client


def change_form(client, url) -> dict:
    """The admin change form's current values, as the browser would post them back."""
    form = client.get(url).context["adminform"].form
    data = {}
    for name, field in form.fields.items():
        value = form[name].value()
        if value is None or value is False or value == []:
            continue
        if hasattr(field.widget, "widgets"):  # a split date and time posts its parts
            for i, part in enumerate(field.widget.decompress(value)):
                data[f"{name}_{i}"] = part
            continue
        data[name] = "on" if value is True else value
    return data


def inline_management(prefix: str, total: int, initial: int) -> dict:
    return {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


def test_an_institutions_change_records_old_and_new(admin_client, master):
    icbc = master["A"]
    url = reverse("admin:institutions_institution_change", args=[icbc.pk])
    data = change_form(admin_client, url) | inline_management("contacts", 0, 0)
    old_name = icbc.short_name
    data["short_name"] = "工商银行湖北分行"
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    entry = AuditEntry.objects.get(action="institution.update")
    assert entry.actor.username == "root" and entry.institution == icbc
    assert entry.changes == {"short_name": [old_name, "工商银行湖北分行"]}
    assert entry.object_id == str(icbc.pk) and "工商银行湖北分行" in entry.summary


def test_saving_without_a_change_records_nothing(admin_client, master):
    url = reverse("admin:institutions_institution_change", args=[master["A"].pk])
    data = change_form(admin_client, url) | inline_management("contacts", 0, 0)
    assert admin_client.post(url, data).status_code == 302
    assert not AuditEntry.objects.filter(action__startswith="institution.").exists()


def test_contacts_added_in_the_inline_are_audited_under_their_institution(admin_client, master):
    icbc = master["A"]
    url = reverse("admin:institutions_institution_change", args=[icbc.pk])
    prefix = "contacts"
    data = change_form(admin_client, url) | inline_management(prefix, 1, 0)
    data |= {
        f"{prefix}-0-institution": icbc.pk,
        f"{prefix}-0-role": ContactRole.choices[0][0],
        f"{prefix}-0-department": "普惠金融事业部",
        f"{prefix}-0-name": "张三",
        f"{prefix}-0-title": "副总经理",
        f"{prefix}-0-office_phone": "027-12345678",
    }
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    contact = Contact.objects.get(institution=icbc, name="张三")
    entry = AuditEntry.objects.get(action="contact.create")
    assert entry.institution == icbc and entry.object_id == str(contact.pk)
    assert entry.changes["name"] == [None, "张三"]


def test_a_users_role_change_is_audited_and_the_password_hash_is_not(admin_client, users):
    filer = users["filer_a"]
    url = reverse("admin:institutions_user_change", args=[filer.pk])
    data = change_form(admin_client, url)
    data["role"] = Role.BANK_SIGNER
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    entry = AuditEntry.objects.get(action="user.update")
    assert entry.changes == {"role": [Role.BANK_FILER, Role.BANK_SIGNER]}

    password_url = reverse("admin:auth_user_password_change", args=[filer.pk])
    response = admin_client.post(
        password_url, {"password1": "一个新的长密码-2026x", "password2": "一个新的长密码-2026x"}
    )
    assert response.status_code == 302, response.context["adminForm"].form.errors
    changed = AuditEntry.objects.filter(action="user.update").latest("id")
    assert changed.changes == {"password": ["已更改", "已更改"]}
    filer.refresh_from_db()
    assert filer.password[:20] not in str(list(AuditEntry.objects.values_list("changes", flat=True)))


def test_a_deleted_region_is_recorded_with_what_it_was(admin_client, master):
    region = Region.objects.create(order=999, name="测试地区", code="999999", branch_label="测试分行")
    url = reverse("admin:institutions_region_delete", args=[region.pk])
    assert admin_client.post(url, {"post": "yes"}).status_code == 302
    assert not Region.objects.filter(pk=region.pk).exists()
    entry = AuditEntry.objects.get(action="region.delete")
    assert entry.object_id == str(region.pk) and entry.changes["name"] == ["测试地区", None]
