"""The organisation scope every domain query runs in.

Domain models use `ScopedManager(organization=...)` from django-scopes: a query outside
`organization_scope(...)` raises ScopeError instead of silently reading every organisation's rows.
"""

from contextlib import contextmanager

from django_scopes import ScopedManager, get_scope, scope, scopes_disabled

__all__ = [
    "OrgScopedManager", "organization_scope", "scopes_disabled", "current_organization_id", "enforced_organization_id",
]


def OrgScopedManager(path="organization", manager_class=None):  # noqa: N802 - a manager factory
    if manager_class is None:
        return ScopedManager(organization=path)
    return ScopedManager(_manager_class=manager_class, organization=path)


@contextmanager
def organization_scope(organization):
    # django-scopes treats a None value as "no filter"; an organisation scope must never mean "all".
    if organization is None or getattr(organization, "pk", None) is None:
        raise ValueError("organization_scope needs a saved organisation")
    with scope(organization=organization.pk):
        yield


def current_organization_id():
    return get_scope().get("organization")


def enforced_organization_id():
    """The organisation the running code is confined to (a request on its host, a task in its scope); None
    when there is no scope or scopes are disabled (commands, platform staff on the platform host)."""
    state = get_scope()
    return state.get("organization") if state.get("_enabled") else None
