"""The practitioner's waiting room: who is waiting, live, and bringing them in (F-WAIT-2, F-WAIT-3)."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from consult import waiting
from consult.forms import AnnouncementForm
from orgs.forms import add_service_errors

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


@never_cache
@require_GET
@member_required
def waiting_count(request):
    """How many wait for this member (the navigation's badge): the same people the waiting room lists."""
    return JsonResponse({"count": waiting.waiting_for(request.membership).count()})


@member_required
def announcements(request):
    member = request.membership
    if member.role not in ("org_admin", "department_admin"):
        raise Http404
    form = AnnouncementForm(request.POST or None, member=member)
    if request.method == "POST" and form.is_valid():
        try:
            waiting.announcement_create(member=member, request=request, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("The announcement is now shown to everyone waiting."))
            return redirect("portal:announcements")
    now = timezone.now()
    items = waiting.announcements_for(member)
    return render(request, "portal/waiting/announcements.html", {
        "form": form, "announcements": [(a, a.expires_at is not None and a.expires_at <= now) for a in items],
    })


@member_required
@require_POST
def announcements_delete(request):
    member = request.membership
    chosen = waiting.announcements_for(member)
    if request.POST.get("id"):
        chosen = chosen.filter(pk=request.POST["id"] if request.POST["id"].isdigit() else None)
    count = waiting.announcements_delete(member=member, announcements=list(chosen), request=request)
    messages.success(request, ngettext("%(count)s announcement deleted.", "%(count)s announcements deleted.",
                                       count) % {"count": count})
    return redirect("portal:announcements")


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
        return redirect("portal:room", entry.appointment_id)  # both land in the consultation room
    return redirect("portal:waiting_room")
