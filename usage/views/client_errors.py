"""The endpoint the room and the waiting room report browser errors to (usage/static/usage/error-report.js).

CSRF: the pages send the token they already carry (the script tag's data-csrf-token, as room.js sends the
form's token with its uploads), so the middleware checks it like any other POST. Exempting the view would save
nothing: the pages have the token anyway, and only a same-origin check would then stand between a foreign page
and a visitor's session filling the report with made-up errors.
"""

import json

from django.http import Http404, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from ..client_errors import client_error_record, rate_limited, reporter_for
from ..models import ClientErrorKind, ClientErrorSource

# A report is a kind, a place and two short texts: 4 KB is plenty, and a bigger body is refused unread.
MAX_BODY_BYTES = 4 * 1024


def _refuse(message, status):
    return JsonResponse({"error": message}, status=status)


@never_cache
@require_POST
def report(request):
    if request.organization is None:
        raise Http404
    appointment_id = request.GET.get("appointment")
    if appointment_id is not None and not (appointment_id.isascii() and appointment_id.isdigit()):
        raise Http404
    reporter = reporter_for(request, int(appointment_id) if appointment_id is not None else None)
    if reporter is None:
        if appointment_id is not None:
            raise Http404  # not this employee's consult, or not an employee: as every foreign id
        return _refuse(_("Only people in a consult or waiting room can report errors."), 403)
    declared = request.META.get("CONTENT_LENGTH") or "0"
    if not declared.isdigit() or int(declared) > MAX_BODY_BYTES:
        return _refuse(_("The report is too large."), 413)
    # Counted before the body is judged: a script sending garbage is limited like one sending reports.
    if rate_limited(request, reporter):
        return _refuse(_("Too many error reports; later ones are not recorded."), 429)
    body = request.body
    if len(body) > MAX_BODY_BYTES:
        return _refuse(_("The report is too large."), 413)
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, ValueError):
        return _refuse(_("The report is not valid JSON."), 400)
    if not isinstance(data, dict):
        return _refuse(_("The report is not valid JSON."), 400)
    kind, source = data.get("kind"), data.get("source")
    message, detail = data.get("message", ""), data.get("detail", "")
    if kind not in ClientErrorKind.values or source not in ClientErrorSource.values:
        return _refuse(_("Unknown kind or place of the error."), 400)
    if not isinstance(message, str) or not isinstance(detail, str):
        return _refuse(_("The message and the detail must be text."), 400)
    client_error_record(organization=request.organization, kind=kind, source=source, role=reporter.role,
                        appointment=reporter.appointment, message=message, detail=detail,
                        user_agent=request.headers.get("User-Agent", ""))
    return HttpResponse(status=204)
