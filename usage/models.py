"""Usage reports (F-USAGE-1): daily roll-ups per organisation, and the raw client-side error reports.

The report pages read only the roll-up tables, so their cost does not grow with the number of
appointments. A nightly job (usage/jobs.py) rebuilds each organisation's days in the organisation's own
time zone: a "day" is a local calendar day, 23 or 25 hours long on DST days. A rebuilt day replaces its
rows in one transaction, so a report never shows half a day. Names of departments and practitioners are
copied into the rows: a report still reads right after the department or the employee is gone.
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from orgs.models import OrganizationOwned

# Consult length buckets: lower bound in minutes, label. The last one is open-ended.
DURATION_BUCKETS = [
    (0, _("under 5 min")),
    (5, _("5–10 min")),
    (10, _("10–15 min")),
    (15, _("15–20 min")),
    (20, _("20–30 min")),
    (30, _("30–45 min")),
    (45, _("45–60 min")),
    (60, _("60 min or more")),
]


class ClientErrorKind(models.TextChoices):
    """What a browser in the room or waiting room may report (usage/views.py refuses anything else)."""

    JS_ERROR = "js_error", _("JavaScript error")
    PERMISSION_DENIED = "permission_denied", _("Camera or microphone refused")
    DEVICE_ERROR = "device_error", _("Camera or microphone not available")
    ICE_FAILED = "ice_failed", _("Connection failed (ICE)")
    CONNECTION_DROPPED = "connection_dropped", _("Connection dropped")
    SOCKET_FAILED = "socket_failed", _("Could not reach the server")


class ClientErrorSource(models.TextChoices):
    WAITING_ROOM = "waiting_room", _("Waiting room")
    ROOM = "room", _("Consultation room")


class ClientErrorRole(models.TextChoices):
    CLIENT = "client", _("Client")
    GUEST = "guest", _("Extra participant")
    STAFF = "staff", _("Employee")


class ClientError(OrganizationOwned):
    """One error a browser reported from the room or the waiting room. Kept 90 days (usage/jobs.py); it
    holds no patient data: the appointment link is by id, the message is the browser's own text, cut."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    kind = models.CharField(_("kind"), max_length=24, choices=ClientErrorKind.choices)
    source = models.CharField(_("where"), max_length=16, choices=ClientErrorSource.choices)
    role = models.CharField(_("who"), max_length=10, choices=ClientErrorRole.choices)
    appointment = models.ForeignKey("consult.Appointment", null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    message = models.CharField(_("message"), max_length=500, blank=True)
    detail = models.CharField(_("detail"), max_length=1000, blank=True,
                              help_text=_("Where in the code, or the connection state."))
    user_agent = models.CharField(_("browser"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("client-side error")
        verbose_name_plural = _("client-side errors")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["organization", "created_at"], name="usage_clienterror_org_time")]

    def __str__(self):
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.kind}"


class UsageDay(OrganizationOwned):
    """One rolled-up day of one organisation; it exists (with zeros) for a day without any activity too,
    so a report tells "nothing happened" from "not rolled up yet". Also holds the user figures."""

    day = models.DateField()
    employees = models.PositiveIntegerField(default=0, help_text=_("Active employee accounts at the end of the day."))
    active_employees = models.PositiveIntegerField(default=0, help_text=_("Employees who signed in or did something."))
    logins = models.PositiveIntegerField(default=0)
    failed_emails = models.PositiveIntegerField(default=0)
    rolled_up_at = models.DateTimeField()

    class Meta:
        ordering = ["day"]
        constraints = [models.UniqueConstraint(fields=["organization", "day"], name="usage_day_once")]

    def __str__(self):
        return f"{self.organization_id} {self.day}"


class UsageAppointments(OrganizationOwned):
    """Appointments of one local day per department and practitioner (either may be empty)."""

    day = models.DateField()
    department = models.ForeignKey("orgs.Department", null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    department_name = models.CharField(max_length=200, blank=True)
    practitioner = models.ForeignKey("orgs.Membership", null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    practitioner_name = models.CharField(max_length=200, blank=True)
    planned = models.PositiveIntegerField(default=0, help_text=_("Not cancelled: held plus no-shows."))
    held = models.PositiveIntegerField(default=0)
    no_show = models.PositiveIntegerField(default=0)
    cancelled = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["day", "department_name", "practitioner_name"]
        indexes = [models.Index(fields=["organization", "day"], name="usage_appts_org_day")]
        constraints = [
            models.CheckConstraint(condition=Q(planned=models.F("held") + models.F("no_show")),
                                   name="usage_appts_planned_is_held_plus_no_show"),
        ]


class UsageDurations(OrganizationOwned):
    """How many consults that started on one local day lasted how long (DURATION_BUCKETS)."""

    day = models.DateField()
    # The department of the consult's appointment; empty when it has none (or the department is gone).
    department = models.ForeignKey("orgs.Department", null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    bucket = models.PositiveSmallIntegerField(help_text="Lower bound in minutes, from DURATION_BUCKETS.")
    consults = models.PositiveIntegerField(default=0)
    total_seconds = models.PositiveBigIntegerField(default=0)

    class Meta:
        ordering = ["day", "bucket"]
        # No unique constraint on (organization, day, department, bucket): department is NULL for consults
        # without one, NULLs are distinct in a unique constraint, and `nulls_distinct=False` is PostgreSQL 15+
        # only (Django ignores it on SQLite). Duplicates cannot arise anyway: a day is only ever written by
        # services.rollup_day, which deletes and inserts the day's rows in one transaction.
        indexes = [models.Index(fields=["organization", "day"], name="usage_durations_org_day")]


class UsageErrors(OrganizationOwned):
    """Client-side errors of one local day by kind and source (failed emails are on UsageDay)."""

    day = models.DateField()
    # The department of the error's appointment; empty when the report named none (or it has none).
    department = models.ForeignKey("orgs.Department", null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    kind = models.CharField(max_length=24, choices=ClientErrorKind.choices)
    source = models.CharField(max_length=16, choices=ClientErrorSource.choices)
    count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["day", "kind", "source"]
        # No unique constraint, for the reason given on UsageDurations (a nullable department in the key).
        indexes = [models.Index(fields=["organization", "day"], name="usage_errors_org_day")]
