"""Clients and external participants in the portal (F-CLIENT-1, F-CLIENT-3). Every list, search, detail
and form goes through the policy (consult.selectors / consult.services)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from consult import selectors, services
from consult.forms import ClientForm, ClientSearchForm
from orgs.forms import add_service_errors
from orgs.services import changed_fields

from ..access import member_required

PAGE_SIZE = 50


@member_required
def client_list(request):
    form = ClientSearchForm(request.GET or None)
    query = form.cleaned_data["q"] if form.is_valid() else ""
    external = request.GET.get("kind") == "external"
    clients = selectors.clients_for(request.membership, query=query, external=external)[:PAGE_SIZE]
    template = "portal/clients/_results.html" if request.htmx else "portal/clients/list.html"
    return render(request, template, {"form": form, "clients": clients, "query": query, "external": external})


@member_required
def client_matches(request):
    """While a new client is typed in: people who may be the same (search before creating)."""
    matches = selectors.possible_duplicates(
        request.membership, **{field: request.GET.get(field, "").strip()
                               for field in ("last_name", "date_of_birth", "email", "client_number")}
    )
    return render(request, "portal/clients/_matches.html", {"matches": matches})


@member_required
def client_create(request):
    member = request.membership
    external = request.GET.get("kind") == "external" or request.POST.get("kind") == "external"
    form = ClientForm(request.POST or None, member=member, external=external,
                      initial={"last_name": request.GET.get("last_name", "")})
    if request.method == "POST" and form.is_valid():
        data = {name: form.cleaned_data[name] for name in services.CLIENT_FIELDS if name in form.cleaned_data}
        try:
            client = services.client_create(member=member, is_external=external,
                                            groups=form.cleaned_data.get("groups") or (), request=request, **data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("%(name)s has been added.") % {"name": client.display_name})
            return redirect("portal:client_detail", client.pk)
    return render(request, "portal/clients/form.html", {"form": form, "external": external, "creating": True})


def _client_or_404(request, client_id):
    client = selectors.client_for(request.membership, client_id)
    if client is None:
        raise Http404
    return client


@member_required
def client_detail(request, client_id):
    member = request.membership
    client = _client_or_404(request, client_id)
    services.client_record_viewed(member=member, client=client, request=request)
    appointments = selectors.appointments_for(member).filter(client=client).order_by("-starts_at")[:50]
    return render(request, "portal/clients/detail.html", {"client": client, "appointments": appointments})


@member_required
def client_edit(request, client_id):
    member = request.membership
    client = _client_or_404(request, client_id)
    if request.method == "GET":
        services.client_record_viewed(member=member, client=client, request=request)
    form = ClientForm(request.POST or None, instance=client, member=member, external=client.is_external)
    if request.method == "POST" and form.is_valid():
        changes = changed_fields(form)
        client = form.save(commit=False)
        client.department = form.cleaned_data.get("department")
        try:
            services.client_update(member=member, client=client, changes=changes,
                                   groups=form.cleaned_data.get("groups"), request=request)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("The changes have been saved."))
            return redirect("portal:client_detail", client.pk)
    return render(request, "portal/clients/form.html", {"form": form, "client": client,
                                                        "external": client.is_external})
