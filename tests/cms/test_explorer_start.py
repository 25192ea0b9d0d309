"""The page explorer of an organisation with translated pages starts at the organisation's site root in the
admin's language, not at Wagtail's root node (whose listing warns about pages placed there)."""

import pytest
from wagtail.models import Page
from wagtail.users.models import UserProfile

from tests.cms.site_helpers import main_page_of, translate
from tests.conftest import signed_in_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def dutch_root(alpha):
    """Alpha's site in English with a Dutch translation: the Dutch site root is a sibling of the English one."""
    return translate(main_page_of(alpha), "nl", title="Alpha Praktijk").get_parent()


def _admin(org, language=""):
    user = org.people["admin"].user
    profile = UserProfile.get_for_user(user)
    profile.preferred_language = language
    profile.save()
    return signed_in_client(user, org)


def test_the_explorer_starts_at_the_site_root_in_the_admins_language(alpha, dutch_root):
    wagtail_root = Page.get_first_root_node()
    assert dutch_root.get_parent().pk == wagtail_root.pk and dutch_root.pk != alpha.root_page_id

    english = _admin(alpha, "en")
    for path in ("/admin/pages/", f"/admin/pages/{wagtail_root.pk}/"):
        response = english.get(path)
        assert response.status_code == 302 and response["Location"] == f"/admin/pages/{alpha.root_page_id}/"
    listing = english.get(f"/admin/pages/{alpha.root_page_id}/")
    assert listing.status_code == 200 and "Alpha Practice" in listing.content.decode()

    dutch = _admin(alpha, "nl")
    assert dutch.get("/admin/pages/")["Location"] == f"/admin/pages/{dutch_root.pk}/"
    assert dutch.get(f"/admin/pages/{dutch_root.pk}/").status_code == 200


def test_a_language_without_a_translation_falls_back_to_the_site_root(alpha, dutch_root):
    assert _admin(alpha, "de").get("/admin/pages/")["Location"] == f"/admin/pages/{alpha.root_page_id}/"


def test_other_explorer_pages_are_untouched(alpha, dutch_root):
    admin = _admin(alpha, "en")
    wagtail_root = Page.get_first_root_node()
    # The listing's live search (results only) at the root is not redirected.
    assert admin.get(f"/admin/pages/{wagtail_root.pk}/results/").status_code == 200
    assert admin.get(f"/admin/pages/{main_page_of(alpha).pk}/").status_code == 200
