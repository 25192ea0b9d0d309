from django.http import Http404
from django.shortcuts import redirect
from wagtail.admin.views.account import AccountView


def not_available(request, *args, **kwargs):
    raise Http404


def admin_account(request):
    """Employees keep one profile (the portal's My profile, audited); platform staff use Wagtail's page."""
    if getattr(request, "organization", None) is not None:
        return redirect("portal:profile")
    from wagtail.admin.auth import require_admin_access

    return require_admin_access(AccountView.as_view())(request)
