"""The usage report page and its CSV files (issue #10, F-USAGE-1), on roll-up rows made here by hand (the
nightly job that makes them is tested in test_rollup.py): who sees it, the figures against hand-computed sums,
the 40-day window's edges, the department filter, CSV content and formula escaping, the empty state, and a query
count that does not grow with the amount of data."""

import csv
import io
import json
from datetime import timedelta

import pytest
from bs4 import BeautifulSoup
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from orgs.scoping import organization_scope
from tests.conftest import host_client, make_org, signed_in_client
from usage import selectors
from usage.models import UsageAppointments, UsageDay, UsageDurations, UsageErrors

URL = "/admin/usage/"
INJECTION = '=HYPERLINK("http://evil.test","x")'


def csv_url(section):
    return f"/admin/usage/{section}.csv"


def admin_of(org):
    return signed_in_client(org.people["admin"].user, org)


def make_day(org, day, **figures):
    with organization_scope(org):
        return UsageDay.objects.create(organization=org, day=day, rolled_up_at=timezone.now(), **figures)


def make_appointments(org, day, *, department=None, practitioner=None, practitioner_name=None, held=0, no_show=0,
                      cancelled=0):
    if practitioner_name is None:
        practitioner_name = str(practitioner) if practitioner is not None else ""
    with organization_scope(org):
        return UsageAppointments.objects.create(
            organization=org, day=day, department=department, department_name=department.name if department else "",
            practitioner=practitioner, practitioner_name=practitioner_name, planned=held + no_show, held=held,
            no_show=no_show, cancelled=cancelled,
        )


def make_durations(org, day, bucket, consults, total_seconds, department=None):
    with organization_scope(org):
        UsageDurations.objects.create(organization=org, day=day, department=department, bucket=bucket,
                                      consults=consults, total_seconds=total_seconds)


def make_errors(org, day, kind, source, count, department=None):
    with organization_scope(org):
        UsageErrors.objects.create(organization=org, day=day, department=department, kind=kind, source=source,
                                   count=count)


@pytest.fixture
def today(alpha):
    return selectors.today_of(alpha)


@pytest.fixture
def figures(alpha, beta, today):
    """alpha: three rolled-up days in the window (its first, a middle and its last day) plus rows the day before
    the window and today, which must never count. beta: one day of its own."""
    first, middle, last = today - timedelta(days=40), today - timedelta(days=10), today - timedelta(days=1)
    outside = (today - timedelta(days=41), today)
    gp, physio = alpha.departments_by_name["gp"], alpha.departments_by_name["physio"]
    gp_member, physio_member = alpha.people["gp"], alpha.people["physio"]

    make_day(alpha, first, employees=4, active_employees=2, logins=3, failed_emails=1)
    make_day(alpha, middle, employees=5, active_employees=3, logins=4, failed_emails=0)
    make_day(alpha, last, employees=5, active_employees=1, logins=1, failed_emails=2)
    make_appointments(alpha, first, department=gp, practitioner=gp_member, held=2, no_show=1, cancelled=1)
    make_appointments(alpha, first, department=physio, practitioner=physio_member, held=2)
    make_appointments(alpha, middle, department=gp, no_show=1, cancelled=2)  # a department booking
    make_appointments(alpha, last, practitioner=gp_member, held=3, no_show=1)  # no department
    make_appointments(alpha, last, department=physio, practitioner_name=INJECTION, held=1)
    make_durations(alpha, first, 0, 2, 300, department=gp)
    make_durations(alpha, middle, 10, 3, 2160, department=physio)
    make_durations(alpha, last, 60, 1, 4000)  # no department
    make_errors(alpha, first, "js_error", "room", 2, department=gp)
    make_errors(alpha, first, "ice_failed", "room", 1)  # no department
    make_errors(alpha, last, "permission_denied", "waiting_room", 4, department=physio)
    for day in outside:
        make_day(alpha, day, employees=9, active_employees=9, logins=100, failed_emails=50)
        make_appointments(alpha, day, department=gp, practitioner=gp_member, held=100, no_show=100, cancelled=100)
        make_durations(alpha, day, 5, 10, 3000, department=gp)
        make_errors(alpha, day, "js_error", "room", 7, department=gp)

    make_day(beta, middle, employees=3, active_employees=2, logins=11, failed_emails=5)
    make_appointments(beta, middle, department=beta.departments_by_name["gp"], practitioner=beta.people["gp"],
                      held=20, cancelled=6)
    make_durations(beta, middle, 0, 7, 700)
    make_errors(beta, middle, "socket_failed", "room", 13)
    return {"first": first, "middle": middle, "last": last}


def table(soup, caption):
    """A table's rows as lists of cell texts, found by its caption (thead, tbody and tfoot in order)."""
    found = soup.find("caption", string=caption)
    assert found is not None, f"no table '{caption}'"
    return [[" ".join(cell.get_text().split()) for cell in row.find_all(["th", "td"])]
            for row in found.find_parent("table").find_all("tr")]


def page_of(client, path=URL):
    response = client.get(path)
    assert response.status_code == 200, response.status_code
    return response, BeautifulSoup(response.content.decode(), "html.parser")


def csv_rows(response):
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


# --- who sees it -------------------------------------------------------------------------------------

def test_the_org_admin_finds_the_report_in_the_menu(alpha):
    # Wagtail's sidebar is JSON in a data attribute: its URLs appear as strings.
    html = admin_of(alpha).get("/admin/").content.decode()
    assert '"name": "usage-reports", "label": "Usage reports"' in html and f'"url": "{URL}"' in html


@pytest.mark.parametrize("person", ["deptadmin", "gp"])
def test_department_admins_and_practitioners_get_404(alpha, figures, person):
    client = signed_in_client(alpha.people[person].user, alpha)
    assert client.get(URL).status_code == 404
    for section in selectors_sections():
        assert client.get(csv_url(section)).status_code == 404


def selectors_sections():
    from usage.views.reports import SECTIONS

    return SECTIONS


def test_a_signed_out_visitor_is_sent_to_sign_in(alpha):
    response = host_client(alpha).get(URL)
    assert response.status_code == 302 and "login" in response["Location"]


def test_the_policy_rule_is_for_org_admins_only(alpha):
    from orgs import policy

    assert policy.can_view_usage_reports(alpha.people["admin"])
    assert not policy.can_view_usage_reports(alpha.people["deptadmin"])
    assert not policy.can_view_usage_reports(alpha.people["gp"])
    assert not policy.can_view_usage_reports(None)


def test_betas_admin_never_sees_alphas_figures(alpha, beta, figures):
    client = admin_of(beta)
    response, soup = page_of(client)
    assert table(soup, "Per department")[1:] == [
        ["General practice", "20", "20", "0", "6", "0.0 %"],
        ["Total", "20", "20", "0", "6", "0.0 %"],
    ]
    assert INJECTION not in response.content.decode()
    assert "Alpha" not in soup.find("main").get_text()
    # alpha's department id on beta's host: a 404, not an empty report.
    assert client.get(URL, {"department": alpha.departments_by_name["gp"].pk}).status_code == 404
    assert client.get(csv_url("appointments"), {"department": alpha.departments_by_name["gp"].pk}).status_code == 404
    rows = csv_rows(client.get(csv_url("appointments")))
    assert [row[3:] for row in rows[1:]] == [["20", "20", "0", "6"]]
    # The organisation picker is the platform's: on an organisation host it changes nothing.
    response, soup = page_of(client, f"{URL}?organisation={alpha.pk}")
    assert table(soup, "Per department")[-1] == ["Total", "20", "20", "0", "6", "0.0 %"]
    assert soup.find("select", attrs={"name": "organisation"}) is None


def test_platform_staff_pick_an_organisation_or_see_all(alpha, beta, figures, superuser):
    quiet = make_org("gamma", "Gamma Care")  # rolled up, but no appointments at all in the window
    make_day(quiet, figures["middle"], employees=2)
    client = signed_in_client(superuser, None)
    response, soup = page_of(client)
    picker = soup.find("select", attrs={"name": "organisation"})
    assert [option.get_text() for option in picker.find_all("option")] == [
        "All organisations", "Alpha Practice", "Beta Clinic", "Gamma Care"]
    # All organisations: the sums of both, one row per organisation, a quiet one too.
    assert table(soup, "Per organisation")[1:] == [
        ["Alpha Practice", "11", "8", "3", "3", "27.3 %"],
        ["Beta Clinic", "20", "20", "0", "6", "0.0 %"],
        ["Gamma Care", "0", "0", "0", "0", "—"],
        ["Total", "31", "28", "3", "9", "9.7 %"],
    ]
    assert table(soup, "Consults per length")[-1] == ["Total", "13", "100 %"]
    assert "8 failed emails, 20 errors reported" in " ".join(soup.get_text().split())
    rows = csv_rows(client.get(csv_url("users")))
    middle = figures["middle"].isoformat()
    assert [middle, "10", "5", "15"] in rows  # alpha's, beta's and gamma's middle day added up
    rows = csv_rows(client.get(csv_url("appointments")))
    assert rows[0][0] == "Organisation"
    assert ["Beta Clinic", middle, "General practice", "Gp Beta", "20", "20", "0", "6"] in rows

    # One organisation: its own figures only.
    response, soup = page_of(client, f"{URL}?organisation={beta.pk}")
    assert table(soup, "Per department")[-1] == ["Total", "20", "20", "0", "6", "0.0 %"]
    assert soup.find("select", attrs={"name": "department"}) is not None
    response = client.get(csv_url("appointments"), {"organisation": beta.pk})
    assert "usage-appointments-beta-" in response["Content-Disposition"]
    assert [row[1:] for row in csv_rows(response)[1:]] == [["General practice", "Gp Beta", "20", "20", "0", "6"]]
    # Unknown organisation, or a department of another one: 404.
    assert client.get(URL, {"organisation": 999999}).status_code == 404
    assert client.get(URL, {"organisation": beta.pk,
                            "department": alpha.departments_by_name["gp"].pk}).status_code == 404


def test_platform_staff_find_it_in_the_menu(alpha, superuser):
    html = signed_in_client(superuser, None).get("/admin/").content.decode()
    assert f'"url": "{URL}"' in html


# --- the figures -------------------------------------------------------------------------------------

def test_page_figures_equal_the_hand_computed_sums(alpha, figures, today):
    response, soup = page_of(admin_of(alpha))
    text = " ".join(soup.get_text().split())
    assert "11 planned: 8 held, 3 no-shows; 3 cancelled." in text
    assert table(soup, "Per department") == [
        ["Department", "Planned", "Held", "No-show", "Cancelled", "No-show rate"],
        ["No department", "4", "3", "1", "0", "25.0 %"],
        ["General practice", "4", "2", "2", "3", "50.0 %"],
        ["Physiotherapy", "3", "3", "0", "0", "0.0 %"],
        ["Total", "11", "8", "3", "3", "27.3 %"],
    ]
    assert table(soup, "Per practitioner")[1:] == [
        ["No practitioner (booked for a department)", "1", "0", "1", "2", "100.0 %"],
        [INJECTION, "1", "1", "0", "0", "0.0 %"],
        ["Gp Alpha", "7", "5", "2", "1", "28.6 %"],
        ["Physio Alpha", "2", "2", "0", "0", "0.0 %"],
        ["Total", "11", "8", "3", "3", "27.3 %"],
    ]
    # Durations: 6 consults, 6460 s → 17.9 min on average; the 3rd of 6 is in 10–15 min.
    assert "6 consults ended; on average 17.9 min, the middle one 10–15 min." in text
    durations = table(soup, "Consults per length")
    assert durations[1] == ["under 5 min", "2", "33 %"]
    assert durations[2] == ["5–10 min", "0", "0 %"]
    assert durations[3] == ["10–15 min", "3", "50 %"]
    assert durations[-2] == ["60 min or more", "1", "17 %"]
    # Users: employees is the latest day's snapshot, sign-ins a sum.
    totals = {dt.get_text(): dd.get_text() for dt, dd in zip(soup.select(".usage-totals dt"),
                                                               soup.select(".usage-totals dd"), strict=True)}
    assert totals == {"Employees (latest day)": "5", "Active employees on an average day": "2.0",
                      "Most active employees on one day": "3", "Sign-ins": "8"}
    # Errors.
    assert "3 failed emails, 7 errors reported" in text
    assert table(soup, "Browser errors by kind and where")[1:] == [
        ["Connection failed (ICE)", "Consultation room", "1"],
        ["JavaScript error", "Consultation room", "2"],
        ["Camera or microphone refused", "Waiting room", "4"],
    ]


def test_the_window_is_the_40_days_ending_yesterday(alpha, figures, today):
    report = selectors.usage_report(alpha)
    assert (report.first, report.last) == (today - timedelta(days=40), today - timedelta(days=1))
    assert len(report.days) == 40 and today not in report.days and today - timedelta(days=41) not in report.days
    # Nothing of the day before the window, nor of today, counts anywhere.
    assert report.appointments_total.planned == 11
    assert report.consults == 6
    assert report.user_totals()["logins"] == 8
    assert report.error_totals() == {"client_errors": 7, "failed_emails": 3}
    assert sorted(report.rolled_up) == [figures["first"], figures["middle"], figures["last"]]

    response, soup = page_of(admin_of(alpha))
    per_day = table(soup, "Appointments per day")
    assert len(per_day) == 1 + 40
    first, last = figures["first"], figures["last"]
    window = f"{first.day} {first:%B}{'' if first.year == last.year else f' {first.year}'} – {last.day} {last:%B %Y}"
    assert window in response.content.decode()


def test_days_without_a_roll_up_are_gaps_and_the_page_says_so(alpha, figures):
    response, soup = page_of(admin_of(alpha))
    assert "37 days of this period have not been rolled up yet" in " ".join(soup.get_text().split())
    per_day = table(soup, "Users per day")[1:]
    assert sum(row[1:] == ["not rolled up"] for row in per_day) == 37
    charts = response.context["charts"]
    logins = next(d for d in charts["users"]["datasets"] if d["key"] == "logins")["data"]
    assert logins[0] == 3 and logins[30] == 4 and logins[39] == 1
    assert logins.count(None) == 37
    # A rolled-up day without appointments is a zero, not a gap.
    held = next(d for d in charts["appointments"]["datasets"] if d["key"] == "held")["data"]
    assert held[0] == 4 and held[30] == 0 and held[39] == 4 and held[1] is None
    # The chart data is a JSON script element (json_script), drawn by reports.js with its own nonce.
    assert soup.find("script", id="usage-chart-data", attrs={"type": "application/json"}) is not None
    scripts = [s for s in soup.find_all("script", src=True) if "usage/reports" in s["src"] or "chart.umd" in s["src"]]
    assert len(scripts) == 2 and all(s.get("nonce") for s in scripts)
    assert soup.find("canvas", attrs={"data-chart": "appointments", "role": "img", "aria-label": True}) is not None


def test_the_department_filter_narrows_the_appointments(alpha, figures):
    gp = alpha.departments_by_name["gp"]
    client = admin_of(alpha)
    response, soup = page_of(client, f"{URL}?department={gp.pk}")
    assert "4 planned: 2 held, 2 no-shows; 3 cancelled." in " ".join(soup.get_text().split())
    assert table(soup, "Per department")[1:] == [
        ["General practice", "4", "2", "2", "3", "50.0 %"], ["Total", "4", "2", "2", "3", "50.0 %"]]
    assert table(soup, "Per practitioner")[1:] == [
        ["No practitioner (booked for a department)", "1", "0", "1", "2", "100.0 %"],
        ["Gp Alpha", "3", "2", "1", "1", "33.3 %"],
        ["Total", "4", "2", "2", "3", "50.0 %"],
    ]
    link = soup.find("a", string="Download appointments (CSV)")
    assert link["href"] == f"{csv_url('appointments')}?department={gp.pk}"
    response = client.get(csv_url("appointments"), {"department": gp.pk})
    assert f"department-{gp.pk}" in response["Content-Disposition"]
    assert [row[1:] for row in csv_rows(response)[1:]] == [
        ["General practice", "Gp Alpha", "3", "2", "1", "1"],
        ["General practice", "", "1", "0", "1", "2"],
    ]
    assert client.get(URL, {"department": "nonsense"}).status_code == 404


def _notes(soup, section):
    notes = soup.select(f"section[aria-labelledby=usage-{section}] .usage-note")
    return [" ".join(note.get_text().split()) for note in notes]


def test_the_department_filter_narrows_durations_and_errors(alpha, figures):
    gp, physio = alpha.departments_by_name["gp"], alpha.departments_by_name["physio"]
    client = admin_of(alpha)
    response, soup = page_of(client, f"{URL}?department={gp.pk}")
    text = " ".join(soup.get_text().split())
    # Durations: General practice's 2 consults of the first day only.
    assert "2 consults ended; on average 2.5 min, the middle one under 5 min." in text
    durations = table(soup, "Consults per length")
    assert durations[1] == ["under 5 min", "2", "100 %"] and durations[-1] == ["Total", "2", "100 %"]
    assert all(row[1] == "0" for row in durations[2:-1])
    # Errors: its 2 JavaScript errors; the failed emails stay the organisation's (3), and the page says so.
    assert "3 failed emails, 2 errors reported" in text
    assert table(soup, "Browser errors by kind and where")[1:] == [["JavaScript error", "Consultation room", "2"]]
    assert _notes(soup, "durations") == []
    assert _notes(soup, "users") == ["For the whole organisation."]
    errors_note, = _notes(soup, "errors")
    assert errors_note.startswith("Failed emails are for the whole organisation")
    chart = json.loads(soup.find("script", id="usage-chart-data").string)
    assert chart["durations"]["datasets"][0]["data"] == [2, 0, 0, 0, 0, 0, 0, 0]
    errors_per_day = {dataset["key"]: dataset["data"] for dataset in chart["errors"]["datasets"]}
    assert set(errors_per_day) == {"failed_emails", "js_error"}
    assert errors_per_day["js_error"][0] == 2 and not any(errors_per_day["js_error"][1:])  # 0, or None: a gap

    # The CSV files: narrowed, with a Department column, named after the department.
    first, last = figures["first"].isoformat(), figures["last"].isoformat()
    for section in ("durations", "errors"):
        link = soup.find("a", string=f"Download {'consult durations' if section == 'durations' else 'errors'} (CSV)")
        assert link["href"] == f"{csv_url(section)}?department={gp.pk}"
    response = client.get(csv_url("durations"), {"department": gp.pk})
    assert f"-department-{gp.pk}-" in response["Content-Disposition"]
    assert csv_rows(response) == [
        ["Date", "Department", "Consult length", "From (minutes)", "Consults", "Total seconds"],
        [first, "General practice", "under 5 min", "0", "2", "300"],
    ]
    response = client.get(csv_url("errors"), {"department": physio.pk})
    assert f"-department-{physio.pk}-" in response["Content-Disposition"]
    assert csv_rows(response) == [
        ["Date", "Department", "Kind", "Where", "Count"],
        [first, "Whole organisation", "Failed email", "Email", "1"],
        [last, "Physiotherapy", "Camera or microphone refused", "Waiting room", "4"],
        [last, "Whole organisation", "Failed email", "Email", "2"],
    ]
    # The users file is not narrowed, and says so by its name.
    response = client.get(csv_url("users"), {"department": gp.pk})
    assert "department" not in response["Content-Disposition"] and len(csv_rows(response)) == 4


def test_empty_state_before_the_first_roll_up(alpha, today):
    # A row outside the window does not make a report either.
    make_day(alpha, today, logins=3)
    response, soup = page_of(admin_of(alpha))
    assert "The first report appears after tonight's roll-up." in soup.get_text()
    assert soup.find("canvas") is None and soup.find("script", id="usage-chart-data") is None
    assert not [s for s in soup.find_all("script", src=True) if "chart.umd" in s["src"]]
    rows = csv_rows(admin_of(alpha).get(csv_url("appointments")))
    assert rows == [["Date", "Department", "Practitioner", "Planned", "Held", "No-show", "Cancelled"]]


# --- CSV -----------------------------------------------------------------------------------------------

def test_csv_files_hold_the_figures_per_day_with_a_named_file(alpha, figures):
    client = admin_of(alpha)
    first, middle, last = (figures[key].isoformat() for key in ("first", "middle", "last"))

    response = client.get(csv_url("appointments"))
    assert response.streaming
    assert response["Content-Disposition"] == (
        f'attachment; filename="usage-appointments-alpha-{figures["first"]:%Y%m%d}-{figures["last"]:%Y%m%d}.csv"')
    assert csv_rows(response) == [
        ["Date", "Department", "Practitioner", "Planned", "Held", "No-show", "Cancelled"],
        [first, "General practice", "Gp Alpha", "3", "2", "1", "1"],
        [first, "Physiotherapy", "Physio Alpha", "2", "2", "0", "0"],
        [middle, "General practice", "", "1", "0", "1", "2"],
        [last, "", "Gp Alpha", "4", "3", "1", "0"],
        [last, "Physiotherapy", "'" + INJECTION, "1", "1", "0", "0"],  # a formula stays text
    ]
    assert csv_rows(client.get(csv_url("durations"))) == [
        ["Date", "Department", "Consult length", "From (minutes)", "Consults", "Total seconds"],
        [first, "General practice", "under 5 min", "0", "2", "300"],
        [middle, "Physiotherapy", "10–15 min", "10", "3", "2160"],
        [last, "", "60 min or more", "60", "1", "4000"],
    ]
    assert csv_rows(client.get(csv_url("users"))) == [
        ["Date", "Employees", "Active employees", "Sign-ins"],
        [first, "4", "2", "3"], [middle, "5", "3", "4"], [last, "5", "1", "1"],
    ]
    assert csv_rows(client.get(csv_url("errors"))) == [
        ["Date", "Department", "Kind", "Where", "Count"],
        [first, "", "Connection failed (ICE)", "Consultation room", "1"],  # no department sorts first
        [first, "General practice", "JavaScript error", "Consultation room", "2"],
        [first, "Whole organisation", "Failed email", "Email", "1"],
        [last, "Physiotherapy", "Camera or microphone refused", "Waiting room", "4"],
        [last, "Whole organisation", "Failed email", "Email", "2"],
    ]
    assert client.get("/admin/usage/nonsense.csv").status_code == 404


def test_csv_header_is_in_the_admins_language(alpha, figures):
    client = admin_of(alpha)
    client.cookies["django_language"] = "nl"
    rows = csv_rows(client.get(csv_url("appointments")))
    assert rows[0][:3] == ["Datum", "Afdeling", "Zorgverlener"]


@pytest.mark.parametrize("name", ["=1+1", "+1", "-1", "@SUM(A1)"])
def test_csv_cells_starting_a_formula_get_a_quote(alpha, today, name):
    make_day(alpha, today - timedelta(days=2))
    make_appointments(alpha, today - timedelta(days=2), practitioner_name=name, held=1)
    rows = csv_rows(admin_of(alpha).get(csv_url("appointments")))
    assert rows[1][2] == "'" + name


# --- cost ----------------------------------------------------------------------------------------------

def _fill(org, today, *, days, practitioners):
    """`days` days of rows (most before the window, as a long-running organisation has) for `practitioners`."""
    gp = org.departments_by_name["gp"]
    with organization_scope(org):
        UsageDay.objects.bulk_create([
            UsageDay(organization=org, day=today - timedelta(days=n), employees=5, active_employees=2, logins=3,
                     rolled_up_at=timezone.now()) for n in range(1, days + 1)])
        UsageAppointments.objects.bulk_create([
            UsageAppointments(organization=org, day=today - timedelta(days=n), department=gp,
                              department_name=gp.name, practitioner_name=f"Practitioner {p}", planned=3, held=2,
                              no_show=1, cancelled=1)
            for n in range(1, days + 1) for p in range(practitioners)])
        # Per day one row of the department and one of none (departments × buckets, as the roll-up makes).
        UsageDurations.objects.bulk_create([
            UsageDurations(organization=org, day=today - timedelta(days=n), department=department, bucket=10,
                           consults=2, total_seconds=1400)
            for n in range(1, days + 1) for department in (gp, None)])
        UsageErrors.objects.bulk_create([
            UsageErrors(organization=org, day=today - timedelta(days=n), department=department, kind="js_error",
                        source="room", count=1)
            for n in range(1, days + 1) for department in (gp, None)])


def _query_counts(client, org):
    counts = []
    narrowed = f"?department={org.departments_by_name['gp'].pk}"
    paths = [URL] + [csv_url(section) for section in selectors_sections()]
    for path in paths + [path + narrowed for path in paths]:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(path)
            if response.streaming:
                b"".join(response.streaming_content)
        assert response.status_code == 200
        counts.append(len(queries))
    return counts


def test_query_count_does_not_grow_with_the_data(alpha, beta, today):
    _fill(alpha, today, days=5, practitioners=1)
    _fill(beta, today, days=500, practitioners=30)
    small, large = _query_counts(admin_of(alpha), alpha), _query_counts(admin_of(beta), beta)
    assert small == large
    assert small[0] <= 25, small  # the page: a fixed handful of aggregate queries plus the admin's own
    # The figures are all there: 30 practitioners × 40 days in the window.
    report = selectors.usage_report(beta)
    assert report.appointments_total.planned == 3 * 30 * 40 and len(report.by_practitioner) == 30
    assert report.consults == 2 * 2 * 40 and report.error_totals()["client_errors"] == 2 * 40
    narrowed = selectors.usage_report(beta, department=beta.departments_by_name["gp"])
    assert narrowed.consults == 2 * 40 and narrowed.error_totals()["client_errors"] == 40
