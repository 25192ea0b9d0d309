"""PDF and text export of answers (F-FORM-6): exact text for a known response, a readable PDF with the
answers, the organisation's name and logo, and nothing fetched from outside."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from wagtail.images.tests.utils import get_test_image_file
from weasyprint.formatting_structure import boxes

from formbuilder import export
from formbuilder.services import answers_open
from orgs.scoping import scopes_disabled

from .test_staff_answers import answered_response, new_response

pytestmark = pytest.mark.django_db

SENT = datetime(2027, 6, 1, 10, 0, tzinfo=ZoneInfo("Europe/Amsterdam"))

EXPECTED_TEXT = """Alpha Practice
Medical history
===============

Client: Anna Jansen
Date of birth: March 14, 1980
Questionnaire: Medical history
Status: Finished
Sent: June 1, 2027, 10 a.m.
Started: June 1, 2027, 10 a.m.
Finished: June 1, 2027, 10 a.m.

About you
---------
Reason for the consultation: Pijn op de borst
Since when: May 3, 2027
Country of birth: Netherlands
Do you smoke: No

Health
------
Known conditions: Asthma, Diabetes
Weight in kg: 72.5
Medicines: Metformine 500 mg
  Salbutamol
Photo of the rash: rash.png
Other address: Not answered
"""


@pytest.fixture
def known(alpha):
    with time_machine.travel(SENT, tick=False):
        yield answered_response(alpha)


def pdf_texts(document):
    return [box.text for page in document.pages for box in page._page_box.descendants()
            if isinstance(box, boxes.TextBox)]


def test_text_export_of_a_known_response(known):
    with scopes_disabled(), time_machine.travel(SENT, tick=False):
        assert export.as_text(known, answers_open(known)) == EXPECTED_TEXT


def test_text_download_is_that_text_in_utf8(alpha, known):
    from tests.conftest import signed_in_client

    with time_machine.travel(SENT, tick=False):
        http = signed_in_client(alpha.people["gp"].user, alpha).get(f"/portal/answers/{known.pk}/text/")
    assert http.content == EXPECTED_TEXT.encode("utf-8")


def test_text_export_of_a_new_response(alpha):
    with time_machine.travel(SENT, tick=False):
        response = new_response(alpha)
        with scopes_disabled():
            text = export.as_text(response, answers_open(response))
    assert text.endswith("Status: New\nSent: June 1, 2027, 10 a.m.\n\nNot filled in yet.\n")


def test_pdf_has_the_answers_the_client_and_the_organisation(alpha, known):
    with scopes_disabled():
        answers = answers_open(known)
        document = export.pdf_document(known, answers)
        pdf = export.as_pdf(known, answers)
    assert pdf.startswith(b"%PDF")
    texts = pdf_texts(document)
    for expected in ("Alpha Practice", "Medical history", "Anna Jansen", "March 14, 1980", "Finished",
                     "About you", "Reason for the consultation", "Pijn op de borst", "May 3, 2027", "Netherlands",
                     "Asthma, Diabetes", "Metformine 500 mg", "Salbutamol", "Not answered"):
        assert expected in texts, expected
    assert "Tell us a little about yourself." not in texts
    assert len(document.pages) >= 1
    page = document.pages[0]
    assert (page.width, page.height) == (pytest.approx(210 / 25.4 * 96), pytest.approx(297 / 25.4 * 96))  # A4, CSS px


def test_pdf_embeds_the_logo_and_pictures_and_fetches_nothing_else(alpha, known):
    from django.apps import apps
    from django.conf import settings

    image_model = apps.get_model(settings.WAGTAILIMAGES_IMAGE_MODEL)
    with scopes_disabled():
        logo = image_model.objects.create(title="Logo", file=get_test_image_file(), collection=alpha.collection)
        alpha.logo = logo
        alpha.save()
        known.organization.refresh_from_db()
        html = export.pdf_html(known, answers_open(known))
    assert html.count('src="data:image/png;base64,') == 2  # the logo and the rash photo
    assert "http://" not in html.split("<body>", 1)[1] and "https://" not in html.split("<body>", 1)[1]
    # A stray external reference would not be fetched: only data: URIs are allowed.
    from weasyprint import HTML, URLFetcher

    fetcher = URLFetcher(allowed_protocols={"data"})
    with pytest.raises(ValueError):
        fetcher.fetch("http://example.com/tracker.png")
    HTML(string=html, url_fetcher=fetcher).render()


def test_new_response_pdf_says_not_filled_in_yet(alpha):
    response = new_response(alpha)
    with scopes_disabled():
        document = export.pdf_document(response, answers_open(response))
    assert "Not filled in yet." in pdf_texts(document)
