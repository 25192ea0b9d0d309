"""The usage report page in the Wagtail admin and its CSV files (F-USAGE-1).

Organisation admins see their organisation on its host; platform staff, on the platform host, pick an
organisation or see all of them. Department admins and practitioners get a 404, as for every admin screen of
an organisation. The figures come from usage/selectors.py (roll-ups only); this module shapes them.
"""

import csv

from django.core.handlers.asgi import ASGIRequest
from django.http import Http404, StreamingHttpResponse
from django.urls import path, reverse
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext
from django.views import View
from django.views.generic import TemplateView
from wagtail.admin.menu import MenuItem
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from orgs import policy
from orgs.models import Organization
from payments.bookkeeping import BOM, defused

from .. import selectors
from ..models import DURATION_BUCKETS, ClientErrorKind, ClientErrorSource

SECTIONS = ("appointments", "durations", "users", "errors")


def may_view(request):
    """Organisation admins on their host; platform staff on the platform host."""
    if request.organization is None:
        return request.user.is_superuser
    return policy.can_view_usage_reports(request.membership)


def held_label():
    # Its own context: the appointment status "Held" is translated as "completed" (nl "Afgerond").
    return pgettext("usage report: appointments that took place", "Held")


class UsageReportsMenuItem(MenuItem):
    def is_shown(self, request):
        return may_view(request)


class ReportAccess:
    """Resolves whose report it is (404 for anyone else, and for a foreign organisation or department id)."""

    def dispatch(self, request, *args, **kwargs):
        if not may_view(request):
            raise Http404
        self.organization = request.organization
        self.all_organizations = False
        if request.organization is None:
            picked = request.GET.get("organisation", "")
            if picked:
                self.organization = Organization.objects.filter(pk=int(picked) if picked.isdigit() else 0).first()
                if self.organization is None:
                    raise Http404
            else:
                self.all_organizations = True
        self.departments = [] if self.organization is None else selectors.report_departments(self.organization)
        self.department = None
        picked = request.GET.get("department", "")
        if picked:
            self.department = next((d for d in self.departments if str(d.pk) == picked), None)
            if self.department is None:
                raise Http404
        return super().dispatch(request, *args, **kwargs)

    def query(self):
        """The picked organisation and department, for the links of the page."""
        params = []
        if self.request.organization is None and self.organization is not None:
            params.append(f"organisation={self.organization.pk}")
        if self.department is not None:
            params.append(f"department={self.department.pk}")
        return "?" + "&".join(params) if params else ""


def window_text(first, last):
    """"18 October – 26 November 2026", in the admin's language."""
    start_format = "j F" if first.year == last.year else "j F Y"
    return _("%(first)s – %(last)s") % {"first": date_format(first, start_format), "last": date_format(last, "j F Y")}


def chart_data(report):
    """What reports.js draws: labels, datasets and their words, all from here (the script adds no text).
    A day that was not rolled up is null (a gap), a rolled-up day without activity is 0."""
    days = report.days
    labels = [date_format(day, "j M") for day in days]
    rolled = report.rolled_up

    def per_day(value_of):
        return [value_of(day) if day in rolled else None for day in days]

    appointments = report.appointments_per_day
    zero = selectors.Figures()
    kinds = selectors.error_kinds_seen(report)
    return {
        "appointments": {
            "type": "bar", "stacked": True, "labels": labels,
            "datasets": [
                {"key": name, "label": str(label),
                 "data": per_day(lambda day, name=name: getattr(appointments.get(day, zero), name))}
                for name, label in (("held", held_label()), ("no_show", _("No-show")), ("cancelled", _("Cancelled")))
            ],
        },
        "durations": {
            "type": "bar", "stacked": False, "labels": [str(bucket["label"]) for bucket in report.durations],
            "datasets": [{"key": "consults", "label": _("Consults"),
                          "data": [bucket["consults"] for bucket in report.durations]}],
        },
        "users": {
            "type": "bar", "stacked": False, "labels": labels,
            "datasets": [
                {"key": "employees", "type": "line", "label": _("Employees"),
                 "data": per_day(lambda day: rolled[day]["employees"])},
                {"key": "active_employees", "type": "line", "label": _("Active employees"),
                 "data": per_day(lambda day: rolled[day]["active_employees"])},
                {"key": "logins", "label": _("Sign-ins"), "data": per_day(lambda day: rolled[day]["logins"])},
            ],
        },
        "errors": {
            "type": "bar", "stacked": True, "labels": labels,
            "datasets": [{"key": "failed_emails", "label": _("Failed emails"),
                          "data": per_day(lambda day: rolled[day]["failed_emails"])}] + [
                {"key": kind.value, "label": str(kind.label),
                 "data": per_day(lambda day, kind=kind: report.errors_per_day.get(day, {}).get(kind.value, 0))}
                for kind in kinds
            ],
        },
    }


class UsageReportsView(ReportAccess, WagtailAdminTemplateMixin, TemplateView):
    template_name = "usage/reports.html"
    page_title = gettext_lazy("Usage reports")
    header_icon = "table"

    def get_breadcrumbs_items(self):
        return self.breadcrumbs_items + [{"url": "", "label": self.page_title}]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        report = selectors.usage_report(self.organization, department=self.department)
        query = self.query()
        kind_labels, source_labels = dict(ClientErrorKind.choices), dict(ClientErrorSource.choices)
        context.update(
            report=report,
            window=window_text(report.first, report.last),
            charts=chart_data(report),
            all_organizations=self.all_organizations,
            organizations=selectors.report_organizations() if self.request.organization is None else None,
            departments=self.departments,
            department=self.department,
            picked_organization=self.organization,
            user_totals=report.user_totals(),
            error_totals=report.error_totals(),
            errors_by_kind_source=[{**row, "kind_label": kind_labels.get(row["kind"], row["kind"]),
                                    "source_label": source_labels.get(row["source"], row["source"])}
                                   for row in report.errors_by_kind_source],
            per_day=[{"day": day, "rolled": report.rolled_up.get(day),
                      "appointments": report.appointments_per_day.get(day),
                      "errors": sum(report.errors_per_day.get(day, {}).values())} for day in report.days],
            csv_urls={section: reverse("usage_report_csv", args=[section]) + query for section in SECTIONS},
        )
        return context


# --- CSV -------------------------------------------------------------------------------------------

class _Line:
    """csv.writer writes into this and gets the line back, so the lines can be streamed."""

    def write(self, value):
        return value


def _lines(header, rows):
    writer = csv.writer(_Line(), quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    yield BOM + writer.writerow([defused(cell) for cell in header])
    for row in rows:
        yield writer.writerow([defused(cell) for cell in row])


def _stream(request, lines):
    """The rows are read before the response starts (a few aggregate queries); the text goes out a line at a
    time. Under ASGI an async iterator, which the server sends as it goes without a thread per file."""
    if isinstance(request, ASGIRequest):
        async def chunks():
            for line in lines:
                yield line
        return chunks()
    return lines


def csv_table(section, organization, first, last, department):
    """(header, rows) of one section, its words in the active language."""
    everyone = organization is None
    who = [_("Organisation")] if everyone else []

    def lead(row):
        return ([row["organization__name"]] if everyone else []) + [row["day"].isoformat()]

    if section == "appointments":
        header = who + [_("Date"), _("Department"), _("Practitioner"), _("Planned"), held_label(), _("No-show"),
                        _("Cancelled")]
        rows = [lead(row) + [row["department_name"], row["practitioner_name"], row["planned"], row["held"],
                             row["no_show"], row["cancelled"]]
                for row in selectors.appointment_rows(organization, first, last, department=department)]
    elif section == "durations":
        labels = dict(DURATION_BUCKETS)
        header = who + [_("Date"), _("Department"), _("Consult length"), _("From (minutes)"), _("Consults"),
                        _("Total seconds")]
        rows = [lead(row) + [row["department__name"] or "", labels.get(row["bucket"], ""), row["bucket"],
                             row["consults"], row["seconds"]]
                for row in selectors.duration_rows(organization, first, last, department=department)]
    elif section == "users":
        header = [_("Date"), _("Employees"), _("Active employees"), _("Sign-ins")]
        rows = [[row["day"].isoformat(), row["employees"], row["active_employees"], row["logins"]]
                for row in selectors.user_rows(organization, first, last)]
    else:
        kinds, sources = dict(ClientErrorKind.choices), dict(ClientErrorSource.choices)
        header = who + [_("Date"), _("Department"), _("Kind"), _("Where"), _("Count")]
        client_errors, failed_emails = selectors.error_rows(organization, first, last, department=department)
        rows = [lead(row) + [row["department__name"] or "", kinds.get(row["kind"], row["kind"]),
                             sources.get(row["source"], row["source"]), row["count"]] for row in client_errors]
        # An email is of no department: its rows say so, in a narrowed file too (as the page does).
        rows += [lead(row) + [_("Whole organisation"), _("Failed email"), _("Email"), row["count"]]
                 for row in failed_emails]
        rows.sort(key=lambda row: row[:len(who) + 1])
    return header, rows


class UsageReportCsvView(ReportAccess, View):
    def get(self, request, section):
        if section not in SECTIONS:
            raise Http404
        first, last = selectors.report_window(selectors.today_of(self.organization))
        header, rows = csv_table(section, self.organization, first, last, self.department)
        response = StreamingHttpResponse(_stream(request, _lines(header, rows)), content_type="text/csv; charset=utf-8")
        whose = self.organization.subdomain if self.organization is not None else "all-organisations"
        narrowed = ""
        if self.department is not None and section != "users":  # users are counted for the whole organisation
            narrowed = f"-department-{self.department.pk}"
        response["Content-Disposition"] = (
            f'attachment; filename="usage-{section}-{whose}{narrowed}-{first:%Y%m%d}-{last:%Y%m%d}.csv"'
        )
        response["Cache-Control"] = "no-store"
        return response


def admin_urls():
    return [
        path("usage/", UsageReportsView.as_view(), name="usage_reports"),
        path("usage/<slug:section>.csv", UsageReportCsvView.as_view(), name="usage_report_csv"),
    ]
