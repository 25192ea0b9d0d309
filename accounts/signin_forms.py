"""allauth forms with our sign-in throttle (accounts/signin_throttle.py).

The MFA code step: allauth already limits wrong codes per user (its "login_failed" rate limit, 5 per 5 minutes,
cleared by a right code) but records nothing and says no time. Ours locks the account's code step after
repeated wrong TOTP / recovery codes, refuses even a right code while locked, records the lockout in the
organisation's audit log and tells the user when to try again. MFA_FORMS["authenticate"] points here.
"""

from allauth.core import context
from allauth.mfa.base.forms import AuthenticateForm
from django import forms

from . import signin_throttle


def _key(user):
    return f"user:{user.pk}"


class ThrottledAuthenticateForm(AuthenticateForm):
    def clean_code(self):
        request = context.request
        organization = getattr(request, "organization", None)
        until = signin_throttle.locked_until(path="mfa", key=_key(self.user), request=request,
                                             organization=organization)
        if until is not None:
            raise forms.ValidationError(signin_throttle.message(until), code="locked")
        try:
            code = super().clean_code()
        except forms.ValidationError:
            until = signin_throttle.failed(path="mfa", key=_key(self.user), label=self.user.email, request=request,
                                           organization=organization)
            if until is not None:
                raise forms.ValidationError(signin_throttle.message(until), code="locked") from None
            raise
        signin_throttle.succeeded(path="mfa", key=_key(self.user))
        return code
