from allauth.account.auth_backends import AuthenticationBackend

from orgs import policy


class OrganizationAuthenticationBackend(AuthenticationBackend):
    """Email + password, accepted only on a host where the user may sign in.

    An employee of another organisation gets the same "incorrect email or password" as a stranger,
    so a login form never confirms that an account exists elsewhere. Calls without a request
    (re-authentication of a signed-in user) have no host to check and keep allauth's behaviour.
    """

    def authenticate(self, request, **credentials):
        user = super().authenticate(request, **credentials)
        if user is None or request is None:
            return user
        if not policy.can_sign_in(user, getattr(request, "organization", None)):
            return None
        return user
