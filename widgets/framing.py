"""Widget pages may be framed by other sites; every other page keeps frame-ancestors 'none'.

Which sites: the organisation's allow-list (Organization.widget_allowed_origins), or any when it is empty.
X-Frame-Options cannot name sites, so widget pages send none and rely on the CSP directive alone.
"""

from functools import wraps

from django.views.decorators.clickjacking import xframe_options_exempt

from orgs.models import origin_lines
from orgs.security import ORIGIN


def frame_ancestors(organization):
    origins = [origin for origin in origin_lines(organization.widget_allowed_origins) if ORIGIN.match(origin)]
    # 'self' too: the organisation's own pages show the widgets as well.
    return " ".join(["'self'", *origins]) if origins else "*"


def framable(view):
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        if request.organization is not None:
            response.csp_frame_ancestors = frame_ancestors(request.organization)
        return response

    return xframe_options_exempt(wrapped)
