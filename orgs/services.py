"""Writes for organisations, departments, employees and the audit log.

Every function validates before it writes, runs in one transaction, and records an audit event.
"""

import contextvars
from contextlib import contextmanager

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _
from wagtail.models import Collection, GroupCollectionPermission, GroupPagePermission, Site

from .events import organization_created
from .models import AuditEvent, Department, Membership, Organization, Role
from .scoping import organization_scope

User = get_user_model()

ORG_ADMIN_PAGE_PERMISSIONS = ["add_page", "change_page", "publish_page", "bulk_delete_page", "lock_page", "unlock_page"]
ORG_ADMIN_COLLECTION_PERMISSIONS = [
    ("wagtailimages", "add_image"), ("wagtailimages", "change_image"), ("wagtailimages", "choose_image"),
    ("wagtaildocs", "add_document"), ("wagtaildocs", "change_document"), ("wagtaildocs", "choose_document"),
]
DEPARTMENT_ADMIN_COLLECTION_PERMISSIONS = [("wagtailimages", "choose_image"), ("wagtaildocs", "choose_document")]
ORG_ADMIN_MODEL_PERMISSIONS = [
    ("wagtailadmin", "access_admin"),
    ("wagtail_localize", "submit_translation"),  # "Translate this page" for the organisation's web pages
    ("orgs", "add_department"), ("orgs", "change_department"), ("orgs", "delete_department"),
    ("orgs", "view_department"),
    ("orgs", "add_membership"), ("orgs", "change_membership"), ("orgs", "view_membership"),
    ("orgs", "view_auditevent"),
    ("orgs", "change_organization"),
    ("consult", "add_emailset"), ("consult", "change_emailset"), ("consult", "delete_emailset"),
    ("consult", "view_emailset"),
    ("consult", "add_emailtemplate"), ("consult", "change_emailtemplate"), ("consult", "delete_emailtemplate"),
    ("consult", "view_emailtemplate"),
    ("consult", "add_participantgroup"), ("consult", "change_participantgroup"),
    ("consult", "delete_participantgroup"), ("consult", "view_participantgroup"),
    ("widgets", "add_walkinwidget"), ("widgets", "change_walkinwidget"), ("widgets", "delete_walkinwidget"),
    ("widgets", "view_walkinwidget"),
    ("widgets", "add_bookingwidget"), ("widgets", "change_bookingwidget"), ("widgets", "delete_bookingwidget"),
    ("widgets", "view_bookingwidget"),
    ("formbuilder", "add_questionnaire"), ("formbuilder", "change_questionnaire"),
    ("formbuilder", "delete_questionnaire"), ("formbuilder", "view_questionnaire"),
    ("accounts", "add_oidcprovider"), ("accounts", "change_oidcprovider"), ("accounts", "delete_oidcprovider"),
    ("accounts", "view_oidcprovider"),
]

class PlanLimitError(ValidationError):
    pass


# --- audit ------------------------------------------------------------------------------------

_acting_as = contextvars.ContextVar("audit_acting_as", default="")


@contextmanager
def audit_acting_as(label):
    """Rows written inside this block without an actor name `label` (an API key) as who acted."""
    token = _acting_as.set(str(label))
    try:
        yield
    finally:
        _acting_as.reset(token)


def audit_record(*, organization, actor, action, target=None, changes=None, request=None, subject="",
                 acting_for=""):
    """Append one row to the organisation's audit log. The only way audit rows are written.

    `subject` names whose patient data was read; `acting_for` the capacity the reader acted in.
    Inside `audit_acting_as(label)` a row without an actor is the label's (API calls: "API key … (prefix)").
    """
    acting_as = _acting_as.get() if actor is None else ""
    acting_for = acting_for or acting_as
    ip = None
    if request is not None:
        ip = request.META.get("REMOTE_ADDR")
    label = ""
    if actor is not None:
        label = actor.email
        if getattr(actor, "is_superuser", False) and not Membership.objects.with_scopes_disabled().filter(
            organization=organization, user=actor
        ).exists():
            label = _("%(email)s (platform staff)") % {"email": actor.email}
    from .remote_support import current_support

    if (support := current_support()) is not None:  # every row of a remote support session names the staff
        label, acting_for = support.actor_label, support.acting_for
    return AuditEvent.objects.with_scopes_disabled().create(
        organization=organization,
        actor=actor,
        actor_label=label or acting_as or _("system"),
        action=action,
        target_type=target._meta.model_name if target is not None else "",
        target_id=str(target.pk) if target is not None and target.pk is not None else "",
        target_label=str(target)[:200] if target is not None else "",
        changes=changes or {},
        subject_label=str(subject)[:200],
        acting_for=str(acting_for)[:200],
        ip_address=ip,
    )


def changed_fields(form):
    """{field: [old, new]} for a bound ModelForm, readable and JSON-safe, secrets left out."""
    changes = {}
    for name in form.changed_data:
        new = form.cleaned_data.get(name)
        old = form.initial.get(name)
        if isinstance(old, str) and isinstance(new, str) and _same_text(old, new):
            continue  # a browser sends text areas back with \r\n: not a change anyone made
        changes[name] = [_json_safe(old), _json_safe(new)]
    return changes


def _same_text(old, new):
    return old.replace("\r\n", "\n") == new.replace("\r\n", "\n")


def _json_safe(value):
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, File):  # uploads and stored files: record the name, never the content
        return value.name or None
    if hasattr(value, "__iter__") and not isinstance(value, (bytes, dict)):
        return [str(v) for v in value]
    return str(value)


# --- organisations ----------------------------------------------------------------------------

@transaction.atomic
def org_create(*, name, subdomain, max_users=10, plan_name="Standard", actor=None, **fields):
    """Create an organisation with its Wagtail site, page tree, media collection and groups."""
    from cms.page_sets import create_site_tree

    organization = Organization(name=name, subdomain=subdomain, max_users=max_users, plan_name=plan_name, **fields)
    organization.full_clean(exclude=["site", "root_page", "collection", "admins_group", "department_admins_group"])
    if Site.objects.filter(hostname=organization.hostname).exists():
        raise ValidationError({"subdomain": _("A site for this address already exists.")})

    with translation.override(organization.default_language):  # the preset pages speak the org's language
        home = create_site_tree(name=name, slug=subdomain)
    organization.root_page = home
    organization.site = Site.objects.create(
        hostname=organization.hostname, port=settings.PUBLIC_PORT, root_page=home, site_name=name
    )
    organization.collection = Collection.get_first_root_node().add_child(name=name)
    organization.admins_group = Group.objects.create(name=f"{subdomain}: {_('organisation admins')}")
    organization.department_admins_group = Group.objects.create(name=f"{subdomain}: {_('department admins')}")
    organization.save()
    group_permissions_sync(organization)
    with translation.override(organization.default_language):
        organization_created.send(sender=Organization, organization=organization)
    audit_record(organization=organization, actor=actor, action="organization.create", target=organization)
    return organization


def _permission(app_label, codename):
    return Permission.objects.get(content_type__app_label=app_label, codename=codename)


def admins_permissions_grant_on_migrate(*, using, app_label, codenames=None):
    """Give the admins of existing organisations an app's permissions (new organisations get them from
    group_permissions_sync). For post_migrate receivers: runs only on the database that holds permissions."""
    from django.apps import apps
    from django.contrib.auth.management import create_permissions
    from django.db import router

    if not router.allow_migrate_model(using, Permission):
        return  # e.g. the task queue's own database
    # post_migrate reaches apps in INSTALLED_APPS order: the app's permissions may not exist yet.
    create_permissions(apps.get_app_config(app_label), using=using, verbosity=0)
    permissions = Permission.objects.using(using).filter(content_type__app_label=app_label)
    if codenames is None:  # what ORG_ADMIN_MODEL_PERMISSIONS gives admins of this app, nothing more
        codenames = [codename for label, codename in ORG_ADMIN_MODEL_PERMISSIONS if label == app_label]
    permissions = permissions.filter(codename__in=codenames)
    permissions = list(permissions)
    if not permissions:
        return
    for organization in Organization.objects.using(using).select_related("admins_group"):
        organization.admins_group.permissions.add(*permissions)


def group_permissions_sync(organization):
    """Give the organisation's groups their permissions (idempotent: also brings older organisations up to date)."""
    admins, dept_admins = organization.admins_group, organization.department_admins_group
    admins.permissions.add(*[_permission(app, code) for app, code in ORG_ADMIN_MODEL_PERMISSIONS])
    from cms.selectors import organization_site_roots

    for site_root in organization_site_roots(organization):  # the site root and its translations
        for codename in ORG_ADMIN_PAGE_PERMISSIONS:
            GroupPagePermission.objects.get_or_create(
                group=admins, page=site_root, permission=_permission("wagtailcore", codename)
            )
    for app, codename in ORG_ADMIN_COLLECTION_PERMISSIONS:
        GroupCollectionPermission.objects.get_or_create(
            group=admins, collection=organization.collection, permission=_permission(app, codename)
        )
    for app, codename in DEPARTMENT_ADMIN_COLLECTION_PERMISSIONS:
        GroupCollectionPermission.objects.get_or_create(
            group=dept_admins, collection=organization.collection, permission=_permission(app, codename)
        )


@transaction.atomic
def organization_update(*, organization, actor, changes, request=None):
    """Save an organisation whose fields a form has already set and validated."""
    organization.full_clean()
    organization.save()
    if changes:
        audit_record(
            organization=organization, actor=actor, action="settings.update", target=organization,
            changes=changes, request=request,
        )
    return organization


# --- departments ------------------------------------------------------------------------------

@transaction.atomic
def department_create(*, organization, actor, name, colour="#2563eb", request=None):
    org = Organization.objects.select_for_update().get(pk=organization.pk)
    with organization_scope(org):
        if org.max_departments is not None and Department.objects.count() >= org.max_departments:
            raise PlanLimitError(_("maximum number of departments reached"))
        department = Department(organization=org, name=name, colour=colour)
        department.full_clean()
        department.save()
    audit_record(organization=org, actor=actor, action="department.create", target=department, request=request,
                 changes={"name": [None, name]})
    return department


@transaction.atomic
def department_update(*, department, actor, changes, request=None):
    with organization_scope(department.organization):
        department.full_clean()
        department.save()
    if changes:
        audit_record(organization=department.organization, actor=actor, action="department.update",
                     target=department, changes=changes, request=request)
    return department


@transaction.atomic
def department_delete(*, department, actor, request=None):
    organization = department.organization
    audit_record(organization=organization, actor=actor, action="department.delete", target=department,
                 request=request)
    with organization_scope(organization):
        department.delete()


@transaction.atomic
def invitation_resend(*, membership, actor, request=None):
    """A new invitation: a fresh set-password link (when the person has not chosen a password yet)."""
    if not membership.is_active:
        raise ValidationError(_("Reactivate the employee before inviting them again."))
    from accounts.services import invitation_send

    new_user = not membership.user.has_usable_password()
    audit_record(organization=membership.organization, actor=actor, action="employee.invite", target=membership,
                 request=request)
    transaction.on_commit(lambda: invitation_send(membership=membership, new_user=new_user))


# --- employees --------------------------------------------------------------------------------

def _active_member_count(organization):
    return Membership.objects.with_scopes_disabled().filter(organization=organization, is_active=True).count()


def _check_user_limit(organization):
    if _active_member_count(organization) >= organization.max_users:
        raise PlanLimitError(_("maximum number of users reached"))


def _sync_groups(membership):
    """Wagtail permissions follow the role (groups carry the org's page and media permissions)."""
    org, user = membership.organization, membership.user
    user.groups.remove(org.admins_group, org.department_admins_group)
    if not membership.is_active:
        return
    if membership.role == Role.ORG_ADMIN:
        user.groups.add(org.admins_group)
    elif membership.role == Role.DEPARTMENT_ADMIN:
        user.groups.add(org.department_admins_group)


@transaction.atomic
def employee_create(
    *, organization, actor, email, first_name="", last_name="", role=Role.PRACTITIONER, departments=(),
    job_title="", send_invitation=True, request=None,
):
    """Add an employee (creating the user when new) and email them a link to set their password.

    Raises PlanLimitError("maximum number of users reached") when the plan is full.
    """
    # Lock the organisation row: two admins adding the last free seat at once must not both succeed.
    org = Organization.objects.select_for_update().get(pk=organization.pk)
    email = User.objects.normalize_email(email).strip()
    user = User.objects.filter(email__iexact=email).first()
    if user is not None and user.is_superuser:
        raise ValidationError({"email": _("This address cannot be used for an employee.")})
    if user is not None and Membership.objects.with_scopes_disabled().filter(organization=org, user=user).exists():
        raise ValidationError({"email": _("This person is already an employee of your organisation.")})
    if any(d.organization_id != org.pk for d in departments):
        raise ValidationError({"departments": _("Choose departments of your own organisation.")})
    if role not in Role.values:
        raise ValidationError({"role": _("Choose a valid role.")})
    _check_user_limit(org)

    created_user = user is None
    if created_user:
        user = User(email=email, first_name=first_name, last_name=last_name, language=org.default_language)
        user.set_unusable_password()
        user.full_clean(exclude=["password"])
        user.save()
    with organization_scope(org):
        membership = Membership.objects.create(organization=org, user=user, role=role, job_title=job_title)
        membership.departments.set(departments)
    _sync_groups(membership)
    audit_record(
        organization=org, actor=actor, action="employee.create", target=membership, request=request,
        changes={"email": [None, email], "role": [None, role], "departments": [None, [str(d) for d in departments]]},
    )
    if send_invitation:
        from accounts.services import invitation_send

        transaction.on_commit(lambda: invitation_send(membership=membership, new_user=created_user))
    return membership


@transaction.atomic
def employee_update(*, membership, actor, changes, request=None):
    """Save a membership whose fields (role, departments, active) a form has already set."""
    org = Organization.objects.select_for_update().get(pk=membership.organization_id)
    was_active = Membership.objects.with_scopes_disabled().get(pk=membership.pk).is_active
    if membership.is_active and not was_active:
        _check_user_limit(org)
    if not membership.is_active or membership.role != Role.ORG_ADMIN:
        _refuse_removing_last_admin(membership)
    with organization_scope(org):
        membership.save()
    _sync_groups(membership)
    if changes:
        audit_record(organization=org, actor=actor, action="employee.update", target=membership,
                     changes=changes, request=request)
    return membership


def _refuse_removing_last_admin(membership):
    other_admins = Membership.objects.with_scopes_disabled().filter(
        organization_id=membership.organization_id, role=Role.ORG_ADMIN, is_active=True
    ).exclude(pk=membership.pk)
    was_admin = Membership.objects.with_scopes_disabled().filter(
        pk=membership.pk, role=Role.ORG_ADMIN, is_active=True
    ).exists()
    if was_admin and not other_admins.exists():
        raise ValidationError(_("An organisation needs at least one active organisation admin."))
