"""Names typed by organisation admins (departments, practitioners, organisations) reach the usage report page,
its chart data and its CSV files as text only (review of #10): no markup runs, no formula is evaluated."""

import json
from datetime import timedelta

from orgs.scoping import organization_scope, scopes_disabled
from tests.conftest import signed_in_client
from tests.usage.test_reports import URL, admin_of, csv_rows, csv_url, make_appointments, make_day, page_of
from usage import selectors

MARKUP = "<img src=x onerror=alert(1)>"
FORMULA = '=HYPERLINK("http://evil.test","x")'


def rename(department, name):
    with organization_scope(department.organization):
        department.name = name
        department.save(update_fields=["name"])


def test_a_department_named_with_markup_or_a_formula_stays_text(alpha):
    today = selectors.today_of(alpha)
    day = today - timedelta(days=3)
    gp, physio = alpha.departments_by_name["gp"], alpha.departments_by_name["physio"]
    rename(gp, MARKUP)
    rename(physio, FORMULA)
    make_day(alpha, day, employees=2)
    make_appointments(alpha, day, department=gp, practitioner_name=MARKUP + "</script>", held=2)
    make_appointments(alpha, day, department=physio, practitioner_name=FORMULA, held=1)
    client = admin_of(alpha)

    for query in ("", f"?department={gp.pk}"):
        response, soup = page_of(client, URL + query)
        html = response.content.decode()
        assert MARKUP not in html and "</script>" not in html.split('id="usage-chart-data"')[1].split("</script>")[0]
        assert "&lt;img src=x onerror=alert(1)&gt;" in html
        assert not soup.find("img", attrs={"src": "x"})
        # The chart data is JSON in a script element: parsed, it is the same text, never markup.
        data = json.loads(soup.find("script", id="usage-chart-data").string)
        assert data["appointments"]["labels"]
    option = soup.find("select", attrs={"name": "department"}).find("option", selected=True)
    assert option.get_text() == MARKUP

    rows = csv_rows(client.get(csv_url("appointments")))
    cells = [cell for row in rows for cell in row]
    assert "'" + FORMULA in cells and FORMULA not in cells
    assert MARKUP in cells  # a CSV is not HTML: the name as typed, and it starts no formula


def test_an_organisation_named_with_markup_or_a_formula_stays_text(alpha, beta, superuser):
    today = selectors.today_of(alpha)
    with scopes_disabled():
        type(alpha).objects.filter(pk=alpha.pk).update(name=MARKUP)
        type(beta).objects.filter(pk=beta.pk).update(name=FORMULA)
    make_day(alpha, today - timedelta(days=2))
    make_appointments(alpha, today - timedelta(days=2), department=alpha.departments_by_name["gp"], held=1)
    make_appointments(beta, today - timedelta(days=2), department=beta.departments_by_name["gp"], held=1)
    client = signed_in_client(superuser, None)
    response, soup = page_of(client)
    assert MARKUP not in response.content.decode() and not soup.find("img", attrs={"src": "x"})
    response, soup = page_of(client, f"{URL}?organisation={alpha.pk}")
    assert MARKUP not in response.content.decode()
    rows = csv_rows(client.get(csv_url("appointments")))
    assert {row[0] for row in rows[1:]} == {MARKUP, "'" + FORMULA}
