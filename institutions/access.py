"""Who may see and do what — decided here and nowhere else.

Every view, API endpoint and selector scopes its querysets through these helpers before anything else
touches them: a bank user sees only their own institution; a PBoC officer or admin sees the institutions
followed by their office and every office below it; a system admin sees everything.
"""

from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404

from .models import ApiToken, Institution, PbocOffice, Role, User


def office_subtree_ids(office_id: int) -> set[int]:
    """The office and every office below it (one query; the office tree is small)."""
    children: dict[int | None, list[int]] = {}
    for pk, parent in PbocOffice.objects.values_list("pk", "parent_id"):
        children.setdefault(parent, []).append(pk)
    out, stack = set(), [office_id]
    while stack:
        current = stack.pop()
        out.add(current)
        stack.extend(children.get(current, []))
    return out


def visible_institutions(user: User):
    """The institutions this user may see, as a queryset."""
    if not user.is_authenticated or not user.is_active:
        return Institution.objects.none()
    if user.role == Role.SYSADMIN or user.is_superuser:
        return Institution.objects.all()
    if user.role in {Role.BANK_FILER, Role.BANK_SIGNER}:
        return Institution.objects.filter(pk=user.institution_id)
    if user.role in {Role.PBOC_OFFICER, Role.PBOC_ADMIN} and user.office_id:
        return Institution.objects.filter(supervising_office_id__in=office_subtree_ids(user.office_id))
    return Institution.objects.none()


def jurisdiction_key(user: User) -> str | None:
    """A name for the set visible_institutions(user) returns, the same for every user who sees the same set
    (pages cached per jurisdiction use it); None when the set is not a whole jurisdiction."""
    if not user.is_authenticated or not user.is_active:
        return None
    if user.role == Role.SYSADMIN or user.is_superuser:
        return "all"
    if user.role in {Role.PBOC_OFFICER, Role.PBOC_ADMIN} and user.office_id:
        return f"office-{user.office_id}"
    return None


def get_institution(user: User, pk) -> Institution:
    """The institution if the user may see it, else 404 (another bank's id reveals nothing)."""
    try:
        return visible_institutions(user).get(pk=pk)
    except (Institution.DoesNotExist, ValueError, TypeError):
        raise Http404("未找到该机构，或您无权查看。") from None


def scope_by_institution(user: User, queryset, field: str = "institution"):
    """Restrict any queryset with an institution foreign key to what the user may see."""
    return queryset.filter(**{f"{field}__in": visible_institutions(user)})


def visible_api_tokens(user: User):
    """Issued API tokens this user may see and revoke: their own; a PBoC admin's also those issued for an
    institution or an office in their jurisdiction; a system admin's all."""
    if not user.is_authenticated or not user.is_active:
        return ApiToken.objects.none()
    if user.role == Role.SYSADMIN or user.is_superuser:
        return ApiToken.objects.all()
    if user.role == Role.PBOC_ADMIN and user.office_id:
        return ApiToken.objects.filter(
            Q(user=user)
            | Q(institution__in=visible_institutions(user))
            | Q(office_id__in=office_subtree_ids(user.office_id))
        )
    return ApiToken.objects.filter(user=user)


def managed_users(user: User):
    """Accounts whose password this user may have reset by e-mail: a system admin's, every account; a PBoC
    admin's, the users of the institutions and offices of their jurisdiction (themselves included)."""
    if not user.is_authenticated or not user.is_active:
        return User.objects.none()
    if user.role == Role.SYSADMIN or user.is_superuser:
        return User.objects.all()
    if user.role == Role.PBOC_ADMIN and user.office_id:
        return User.objects.filter(
            Q(institution__in=visible_institutions(user))
            | Q(office_id__in=office_subtree_ids(user.office_id))
        )
    return User.objects.none()


# --- capabilities ---------------------------------------------------------------------------


def can_prepare(user: User, institution: Institution) -> bool:
    """Fill in or upload a return for the institution (填报人 or 分管领导 of that bank)."""
    return user.role in {Role.BANK_FILER, Role.BANK_SIGNER} and user.institution_id == institution.pk


def can_submit(user: User, institution: Institution) -> bool:
    """Submit on the bank's behalf: only its signer (分管行领导/负责人)."""
    return user.role == Role.BANK_SIGNER and user.institution_id == institution.pk


def can_review(user: User, institution: Institution) -> bool:
    """Approve / return / reopen: PBoC officers and admins within their jurisdiction."""
    if user.role not in {Role.PBOC_OFFICER, Role.PBOC_ADMIN, Role.SYSADMIN}:
        return False
    return visible_institutions(user).filter(pk=institution.pk).exists()


def can_revoke_token(user: User, token: ApiToken) -> bool:
    """Revoke an issued API token: its owner, or an admin who sees it (visible_api_tokens)."""
    return visible_api_tokens(user).filter(pk=token.pk).exists()


def is_pboc(user: User) -> bool:
    return user.is_authenticated and user.role in {Role.PBOC_OFFICER, Role.PBOC_ADMIN, Role.SYSADMIN}


def is_pboc_admin(user: User) -> bool:
    return user.is_authenticated and user.role in {Role.PBOC_ADMIN, Role.SYSADMIN}


def require(condition: bool, message: str = "您无权执行此操作。") -> None:
    if not condition:
        raise PermissionDenied(message)


# The capabilities with the refusal their user reads. Views check them before reading a request's body, so
# that a role that may not act gets 403 rather than a 400 about its input; the services check them again.
PREPARE = (can_prepare, "只有本机构的填报人或分管领导可以填报。")
SUBMIT = (can_submit, "只有本机构的分管领导（签批人）可以提交报表。")
REVIEW = (can_review, "您无权审核该机构的报表。")


def require_capability(user: User, institution: Institution, capability) -> None:
    allowed, message = capability
    require(allowed(user, institution), message)
