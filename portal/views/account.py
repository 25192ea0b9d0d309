from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.services import profile_update
from orgs import policy, selectors
from orgs.models import TwoFactorPolicy
from orgs.services import changed_fields

from ..access import member_required
from ..forms import ProfileForm


@member_required
def home(request):
    member = request.membership
    now = timezone.localtime(timezone.now(), timezone=_zone(request.organization))
    context = {
        "now": now,
        "departments": selectors.departments_for(member).filter(pk__in=policy.member_department_ids(member))
        if member.pk else [],
        "colleagues": selectors.employees_for(member).exclude(pk=member.pk).filter(is_active=True)[:50]
        if member.pk else [],
        "can_use_admin": policy.can_use_admin(member),
    }
    return render(request, "portal/home.html", context)


@member_required
def profile(request):
    user = request.user
    form = ProfileForm(request.POST or None, request.FILES or None, instance=user)
    if request.method == "POST" and form.is_valid():
        changes = changed_fields(form)
        form.save(commit=False)
        profile_update(user=user, organization=request.organization, changes=changes, request=request)
        if user.language:
            translation.activate(user.language)
        messages.success(request, _("Your profile has been saved."))
        response = redirect("portal:profile")
        if user.language:
            response.set_cookie("django_language", user.language, samesite="Lax")
        return response
    return render(request, "portal/profile.html", {
        "form": form, "member": request.membership, "two_factor": _two_factor_status(request),
    })


def _two_factor_status(request):
    """What My profile's "Two-factor authentication" section shows: what is set up and what may be added."""
    from allauth.mfa.models import Authenticator

    types = list(Authenticator.objects.filter(user_id=request.user.pk).values_list("type", flat=True))
    recovery = Authenticator.objects.filter(user_id=request.user.pk, type=Authenticator.Type.RECOVERY_CODES).first()
    return {
        "enabled": policy.has_two_factor(request.user),
        "totp": Authenticator.Type.TOTP in types,
        "security_keys": types.count(Authenticator.Type.WEBAUTHN),
        "recovery_codes_left": len(recovery.wrap().get_unused_codes()) if recovery else None,
        "can_add": policy.can_add_two_factor(request.membership),
        "required": request.organization.two_factor_policy == TwoFactorPolicy.REQUIRED,
    }


def _zone(organization):
    import zoneinfo

    return zoneinfo.ZoneInfo(organization.time_zone)
