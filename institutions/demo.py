"""Demo accounts and contacts (README lists them). Deterministic; re-running changes nothing."""

from django.contrib.auth.models import Group, Permission
from django.db import transaction

from .models import Contact, ContactRole, Institution, PbocOffice, Role, User

# Satisfies the portal's own password policy (settings.AUTH_PASSWORD_VALIDATORS; tests/institutions/test_passwords.py).
DEMO_PASSWORD = "Xiaowei-Demo-2022"
# Demo databases made before the policy applied to the demo too: their accounts move to DEMO_PASSWORD.
FORMER_DEMO_PASSWORD = "Demo-2022"

DEMO_USERS = [
    # username, role, institution code, office code, display name
    ("filer_icbc", Role.BANK_FILER, "ICBC", None, "张晓敏"),
    ("signer_icbc", Role.BANK_SIGNER, "ICBC", None, "李建国"),
    ("filer_hbb", Role.BANK_FILER, "HBB", None, "王丽"),
    ("signer_hbb", Role.BANK_SIGNER, "HBB", None, "陈志强"),
    ("officer_yy", Role.PBOC_OFFICER, None, "WH-YY", "刘洋"),
    ("officer_wh", Role.PBOC_OFFICER, None, "WH", "赵敏"),
    ("officer_yc", Role.PBOC_OFFICER, None, "YC", "孙磊"),
    ("pboc_admin", Role.PBOC_ADMIN, None, "WH", "周文"),
    ("sysadmin", Role.SYSADMIN, None, None, "系统管理员"),
]

ADMIN_GROUP = "人民银行管理员"
ADMIN_PERMISSIONS = [
    ("institutions", ["region", "pbocoffice", "institution", "contact", "user"], ["view", "add", "change"]),
    ("reporting", ["period"], ["view", "add", "change"]),
    ("reporting", ["filing", "filingversion", "transition", "importjob"], ["view"]),
    ("audit", ["auditentry"], ["view"]),
]

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐"
GIVEN = ["伟", "芳", "娜", "敏", "静", "磊", "洋", "勇", "艳", "杰", "涛", "明", "超", "霞", "平", "刚"]


@transaction.atomic
def load_demo_users() -> list[User]:
    group, _ = Group.objects.get_or_create(name=ADMIN_GROUP)
    for app, models, actions in ADMIN_PERMISSIONS:
        codenames = [f"{a}_{m}" for m in models for a in actions]
        group.permissions.add(*Permission.objects.filter(content_type__app_label=app, codename__in=codenames))
    institutions = {i.code: i for i in Institution.objects.all()}
    offices = {o.code: o for o in PbocOffice.objects.all()}
    users = []
    for username, role, inst, office, name in DEMO_USERS:
        user = User.objects.filter(username=username).first() or User(username=username)
        user.role = role
        user.display_name = name
        user.institution = institutions.get(inst) if inst else None
        user.office = offices.get(office) if office else None
        user.email = f"{username}@demo.portal.invalid"
        user.is_staff = role in {Role.PBOC_ADMIN, Role.SYSADMIN}
        user.is_superuser = role == Role.SYSADMIN
        if not user.has_usable_password() or user.pk is None or user.check_password(FORMER_DEMO_PASSWORD):
            user.set_password(DEMO_PASSWORD)
        user.save()
        if role == Role.PBOC_ADMIN:
            user.groups.add(group)
        users.append(user)
    return users


def load_demo_contacts() -> int:
    """附件2 contacts for every institution: 分管行领导, 牵头部门负责人, 牵头部门联系人."""
    made = 0
    for n, institution in enumerate(Institution.objects.all()):
        for k, (role, title, dept) in enumerate(
            [
                (ContactRole.LEADER, "副行长", "行领导"),
                (ContactRole.HEAD, "总经理", "普惠金融事业部"),
                (ContactRole.LIAISON, "高级经理", "普惠金融事业部"),
            ]
        ):
            seq = n * 3 + k
            _, created = Contact.objects.get_or_create(
                institution=institution,
                role=role,
                defaults={
                    "department": dept,
                    "name": SURNAMES[seq % len(SURNAMES)] + GIVEN[(seq * 7) % len(GIVEN)],
                    "title": title,
                    "office_phone": f"027-8{seq:03d}{n:04d}"[:13],
                    "mobile": f"139{seq:04d}{n:04d}",
                    "email": f"{institution.code.lower()}-{role}@demo.portal.invalid",
                },
            )
            made += created
    return made
