"""The organisation's public site: only the published page set is visible, at /<lang>/ addresses.
Covers F-WEB-1 and F-WEB-5."""

import pytest

from cms.models import FollowUpPage, MainPage
from tests.conftest import host_client

pytestmark = pytest.mark.django_db


def test_published_set_is_served_under_its_language_and_follow_ups_below_it(alpha):
    client = host_client(alpha)
    root = client.get("/")
    assert root.status_code == 302 and root["Location"] == "/en/"
    home = client.get("/en/")
    assert home.status_code == 200 and "Alpha Practice" in home.content.decode()
    assert home["Content-Language"] == "en"
    follow_up = client.get("/en/how-it-works/")
    assert follow_up.status_code == 200 and "How it works" in follow_up.content.decode()
    # the tree's own slugs are not public addresses, nor are languages the site does not have
    for path in ("/home/", "/home/how-it-works/", "/how-it-works/", "/en/home/", "/en/home/how-it-works/",
                 "/nl/", "/fr/", "/en/how-it-works/extra/"):
        assert client.get(path).status_code == 404, path


def test_unpublished_sets_are_never_visible(alpha):
    home = alpha.root_page.specific
    draft_set = home.add_child(instance=MainPage(title="Summer campaign", slug="summer", live=True))
    draft_set.add_child(instance=FollowUpPage(title="Summer details", slug="summer-details", live=True))
    client = host_client(alpha)
    for path in ("/", "/en/", "/summer/", "/en/summer/", "/en/summer-details/", "/en/summer/summer-details/"):
        assert "Summer" not in client.get(path, follow=True).content.decode(), path
    assert draft_set.url is None  # no public address, so the admin offers no "view live" link

    home.published_set = draft_set
    home.save()
    assert "Summer campaign" in client.get("/en/").content.decode()
    assert client.get("/en/summer-details/").status_code == 200
    assert client.get("/en/how-it-works/").status_code == 404
    assert MainPage.objects.get(pk=draft_set.pk).url.endswith("/en/")


def test_each_host_serves_its_own_site(alpha, beta):
    assert "Beta Clinic" in host_client(beta).get("/en/").content.decode()
    assert "Beta Clinic" not in host_client(alpha).get("/en/").content.decode()


def test_no_published_set_is_a_404(alpha):
    home = alpha.root_page.specific
    home.published_set = None
    home.save()
    response = host_client(alpha).get("/")
    assert response.status_code == 404
    assert "has not published its web page yet" in response.content.decode()
    assert host_client(alpha).get("/en/").status_code == 404


def test_platform_host_front_page(db):
    html = host_client(None).get("/").content.decode()
    assert "OpenConsult" in html and 'href="/admin/"' in html


def test_page_links_to_another_organisation_render_without_an_address(alpha, beta):
    """A rich-text link naming another organisation's page id must not reveal that page's address."""
    foreign = alpha.root_page.get_children().first().get_children().first()  # alpha's "How it works"
    main = beta.root_page.get_children().first().specific
    main.sections = [{"type": "main_text", "value": {
        "title": "", "text": f'<p><a linktype="page" id="{foreign.pk}">see also</a></p>', "text_colour": "",
        "image": None, "image_position": "right"}}]
    main.save_revision().publish()
    html = host_client(beta).get("/en/").content.decode()
    assert '<a rel="noopener noreferrer">see also</a>' in html  # no href
    assert "alpha.localhost" not in html
