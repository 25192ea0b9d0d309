"""`manage.py demo` gives the demo organisation a practice site in Dutch and English with both widgets."""

import pytest
from django.core.management import call_command

from cms.models import FollowUpPage, MainPage, OrgImage
from orgs.models import Organization
from orgs.scoping import scopes_disabled
from tests.conftest import host_client

pytestmark = pytest.mark.django_db


def test_demo_site_in_dutch_and_english_with_widgets(django_assert_max_num_queries):
    call_command("demo")
    call_command("demo")  # idempotent
    demo = Organization.objects.get(subdomain="demo")
    client = host_client(demo)
    assert client.get("/", HTTP_ACCEPT_LANGUAGE="en-GB,en").headers["Location"] == "/en/"
    assert client.get("/", HTTP_ACCEPT_LANGUAGE="fr").headers["Location"] == "/nl/"  # the practice's language

    dutch = client.get("/nl/").content.decode()
    assert "Uw huisarts, ook via video" in dutch and 'class="theme-clinic"' in dutch
    assert "/widgets/walk-in/" in dutch and "/widgets/booking/" in dutch
    assert dutch.count('/?lang=nl" data-openconsult-widget') == 2  # the widgets speak the page's language
    assert 'href="/nl/spreekuren/"' in dutch and 'href="/nl/praktisch/"' in dutch
    assert 'hreflang="en" lang="en">English</a>' in dutch
    assert 'alt="Illustratie van een videogesprek met een arts op een scherm"' in dutch

    english = client.get("/en/").content.decode()
    assert "Your GP, by video too" in english and "/widgets/walk-in/" in english
    assert english.count('/?lang=en" data-openconsult-widget') == 2
    assert client.get("/en/opening-hours/").status_code == 200 and client.get("/en/practical/").status_code == 200

    assert MainPage.objects.filter(slug__in=["huisartsenpraktijk", "gp-practice"]).count() == 2
    assert FollowUpPage.objects.filter(slug__in=["spreekuren", "opening-hours"]).count() == 2
    with scopes_disabled():
        assert OrgImage.objects.filter(organization=demo, title__startswith="Demo header").count() == 1

    # Issue #5's budget for an uncached page view (header image, both widgets, menu, language switch).
    for path in ("/nl/", "/en/opening-hours/"):
        with django_assert_max_num_queries(15):
            assert client.get(path).status_code == 200
