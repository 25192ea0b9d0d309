"""Page sets in the admin (F-WEB-1, 3, 4, 5): at most three follow-up pages, the live switch, previews
of any set for its own organisation only, and the preset set of a new organisation."""

import pytest

from cms.models import FollowUpPage, MainPage
from orgs.models import AuditEvent
from orgs.scoping import scopes_disabled
from tests.cms.site_helpers import add_page_set, main_page_form_data, main_page_of
from tests.conftest import host_client, signed_in_client

pytestmark = pytest.mark.django_db


def admin_client(org):
    return signed_in_client(org.people["admin"].user, org)


def test_new_organisation_gets_a_preset_page_set_in_its_language(db):
    from orgs.services import org_create

    org = org_create(name="Huisartsen Zuid", subdomain="zuid", default_language="nl")
    main = main_page_of(org)
    assert main.live and main.locale.language_code == "nl" and main.theme == "default"
    assert [b.block_type for b in main.sections] == ["main_text", "subtext"]
    assert [p.slug for p in main.menu_pages()] == ["how-it-works"]
    assert host_client(org).get("/").headers["Location"] == "/nl/"
    assert host_client(org).get("/nl/how-it-works/").status_code == 200


def test_three_follow_up_pages_then_the_fourth_is_refused_with_a_message(alpha):
    main = main_page_of(alpha)  # has one follow-up page (preset)
    client = admin_client(alpha)
    add_url = f"/admin/pages/add/cms/followuppage/{main.pk}/"
    for n in (2, 3):
        assert client.get(add_url).status_code == 200
        main.add_child(instance=FollowUpPage(title=f"Extra {n}", slug=f"extra-{n}"))

    for response in (client.get(add_url, follow=True), client.post(add_url, {"title": "Fourth", "slug": "fourth"},
                                                                       follow=True),
                     client.get(f"/admin/pages/{main.pk}/add_subpage/", follow=True)):
        assert response.redirect_chain[-1][0] == f"/admin/pages/{main.pk}/"
        assert "at most 3 follow-up pages" in response.content.decode()
    assert main.get_children().count() == 3
    assert not FollowUpPage.objects.filter(slug="fourth").exists()

    # Moving a fourth page in is not offered either.
    other = add_page_set(alpha, "Other", "other", follow_ups=[("Moved", "moved")])
    assert not other.get_children().first().specific.can_move_to(main)


def test_edit_forms_of_main_and_follow_up_pages_open(alpha):
    main = main_page_of(alpha)
    client = admin_client(alpha)
    html = client.get(f"/admin/pages/{main.pk}/edit/").content.decode()
    for tab in ("Content", "Styling", "Menu", "Advanced"):
        assert f">{tab}<" in html or f"{tab}\n" in html, tab
    assert 'type="color"' in html and "follow-up pages (at most three)" in html
    follow_up = main.get_children().first()
    assert client.get(f"/admin/pages/{follow_up.pk}/edit/").status_code == 200


def test_new_web_page_creates_another_set(alpha):
    home = alpha.root_page
    client = admin_client(alpha)
    assert client.get(f"/admin/pages/{home.pk}/").status_code == 200
    assert f"/admin/pages/add/cms/mainpage/{home.pk}/" in client.get(f"/admin/pages/{home.pk}/").content.decode()
    data = main_page_form_data(MainPage(title="Autumn", slug="autumn"))
    data["action-publish"] = "action-publish"
    response = client.post(f"/admin/pages/add/cms/mainpage/{home.pk}/", data)
    assert response.status_code == 302
    autumn = MainPage.objects.get(slug="autumn")
    assert autumn.live and autumn.get_parent().pk == home.pk
    assert main_page_of(alpha).slug == "home"  # publishing a set does not make it the live one


def test_make_this_the_live_web_page(alpha, beta):
    autumn = add_page_set(alpha, "Autumn", "autumn", follow_ups=[("Flu shots", "flu-shots")])
    draft = add_page_set(alpha, "Draft", "draft", publish=False)
    client = admin_client(alpha)
    listing = client.get(f"/admin/pages/{alpha.root_page.pk}/").content.decode()
    assert f"/admin/web-pages/{autumn.pk}/make-live/" in listing
    assert f"/admin/web-pages/{main_page_of(alpha).pk}/make-live/" not in listing  # already live
    assert f"/admin/web-pages/{draft.pk}/make-live/" not in listing  # not published

    url = f"/admin/web-pages/{autumn.pk}/make-live/"
    assert "Make this the live web page" in client.get(url).content.decode()
    assert admin_client(beta).get(url).status_code == 404
    assert admin_client(beta).post(url).status_code == 404
    assert signed_in_client(alpha.people["gp"].user, alpha).post(url).status_code == 404
    assert main_page_of(alpha).slug == "home"

    response = client.post(url, follow=True)
    assert "is now the web page visitors see" in response.content.decode()
    assert main_page_of(alpha).pk == autumn.pk
    public = host_client(alpha)
    assert "Autumn" in public.get("/en/").content.decode()
    assert public.get("/en/flu-shots/").status_code == 200
    assert public.get("/en/how-it-works/").status_code == 404
    with scopes_disabled():
        event = AuditEvent.objects.get(organization=alpha, action="web_page.make_live")
    assert event.target_id == str(autumn.pk) and event.changes["published_set"] == [alpha.name, "Autumn"]

    response = client.post(f"/admin/web-pages/{draft.pk}/make-live/", follow=True)
    assert "Publish this web page first" in response.content.decode()
    assert main_page_of(alpha).pk == autumn.pk


def test_previews_of_a_set_that_is_not_live(alpha, beta):
    other = add_page_set(alpha, "Spring", "spring", follow_ups=[("Hay fever", "hay-fever")], publish=False)
    follow_up = other.get_children().first()
    client, foreign = admin_client(alpha), admin_client(beta)
    for page in (other, follow_up):
        response = client.get(f"/admin/pages/{page.pk}/view_draft/")
        assert response.status_code == 200 and page.title in response.content.decode()
        assert foreign.get(f"/admin/pages/{page.pk}/view_draft/").status_code == 404

    # The live preview panel: the edit form's data is posted, then the preview is rendered from it.
    preview_url = f"/admin/pages/{other.pk}/edit/preview/"
    response = client.post(preview_url, main_page_form_data(other))
    assert response.json() == {"is_valid": True, "is_available": True}
    html = client.get(preview_url + "?mode=").content.decode()
    assert "Opening hours" in html and "Every weekday from 8 to 5." in html
    assert foreign.post(preview_url, main_page_form_data(other)).status_code == 404
    assert foreign.get(preview_url + "?mode=").status_code == 404
    # and the public still sees none of it
    for path in ("/en/", "/en/spring/", "/en/hay-fever/"):
        assert "Spring" not in host_client(alpha).get(path).content.decode()


def test_themes_are_chosen_per_page_set(alpha):
    main = main_page_of(alpha)
    assert 'href="/static/themes/default/site.css"' in host_client(alpha).get("/en/").content.decode()
    main.theme = "clinic"
    main.save_revision().publish()
    html = host_client(alpha).get("/en/how-it-works/").content.decode()  # follow-up pages use their set's theme
    assert 'href="/static/themes/clinic/site.css"' in html and 'class="theme-clinic"' in html
    choices = [name for name, _label in MainPage._meta.get_field("theme").choices]
    assert {"default", "clinic"} <= set(choices)
