"""The practitioner's waiting room: who is waiting, live, and bringing them in (F-WAIT-2, F-WAIT-3)."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from consult import waiting

from ..access import member_required


def _entries(member):
    return [(entry, waiting.arrival_state(entry)) for entry in waiting.waiting_for(member)]


@member_required
def waiting_room(request):
    return render(request, "portal/waiting/room.html", {"entries": _entries(request.membership)})


@member_required
def waiting_list(request):
    """The list alone, fetched again whenever the socket says something changed."""
    return render(request, "portal/waiting/_list.html", {"entries": _entries(request.membership)})


@member_required
@require_POST
def call_in(request, entry_id):
    entry = waiting.waiting_entry_for(request.membership, entry_id)
    if entry is None:
        raise Http404
    try:
        waiting.waiting_call_in(member=request.membership, entry=entry, request=request)
    except PermissionDenied:
        raise Http404
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        name = entry.participant.person.display_name if entry.participant.person else ""
        messages.success(request, _("%(name)s has been called in.") % {"name": name})
    return redirect("portal:waiting_room")
