"""Entry checks for portal views."""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.http import Http404

from orgs import policy


def member_required(view):
    """Staff of the host's organisation only; anonymous visitors are sent to sign in."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.organization is None:
            raise Http404
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not policy.can_use_portal(request.membership):
            raise Http404
        return view(request, *args, **kwargs)

    return wrapper
