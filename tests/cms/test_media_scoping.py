"""The media library per organisation (F-WEB-6): lists, searches, choosers, uploads and renditions.

tests/orgs/test_tenancy_admin.py already walks the main edit/delete URLs; this file covers the rest of
Wagtail's image and document screens: index and chooser search/results, chooser selection (single and
multiple), the URL generator and preview, multiple-upload edits, the admin API, bulk actions, document
serving on the wrong host, uploads naming another organisation's collection, and header renditions.
"""

import io

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image as PILImage
from wagtail.documents import get_document_model
from wagtail.images import get_image_model
from wagtail.images.tests.utils import get_test_image_file
from wagtail.models import Collection

from orgs.models import Role
from orgs.scoping import organization_scope, scopes_disabled
from orgs.services import employee_create
from tests.conftest import host_client, signed_in_client

pytestmark = pytest.mark.django_db

OrgImage = get_image_model()
OrgDocument = get_document_model()


def media_for(org, word):
    """An image and a document of `org` whose titles carry `word` (searchable) and the organisation's name."""
    with scopes_disabled():
        image = OrgImage.objects.create(
            title=f"{word} {org.name} header", file=get_test_image_file(f"{word}.png", size=(2000, 1000)),
            collection=org.collection,
        )
        document = OrgDocument.objects.create(
            title=f"{word} {org.name} leaflet", file=ContentFile(b"%PDF-1.4 leaflet", name=f"{word}.pdf"),
            collection=org.collection,
        )
    return image, document


def png_upload(name="upload.png", size=(800, 400)):
    buffer = io.BytesIO()
    PILImage.new("RGB", size, "#336699").save(buffer, "PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


@pytest.fixture
def libraries(alpha, beta):
    """Both organisations have a "dentist" image and document; beta's admin is signed in on beta."""
    return {"alpha": media_for(alpha, "dentist"), "beta": media_for(beta, "dentist"),
            "client": signed_in_client(beta.people["admin"].user, beta)}


def html_of(response):
    assert response.status_code == 200, response
    return response.content.decode()


# --- listing, searching and choosing ------------------------------------------------------------

@pytest.mark.parametrize("url", [
    "/admin/images/", "/admin/images/?q=dentist", "/admin/images/results/?q=dentist",
    "/admin/images/chooser/", "/admin/images/chooser/?q=dentist", "/admin/images/chooser/results/?q=dentist",
    "/admin/documents/", "/admin/documents/?q=dentist", "/admin/documents/results/?q=dentist",
    "/admin/documents/chooser/", "/admin/documents/chooser/?q=dentist", "/admin/documents/chooser/results/?q=dentist",
    "/admin/api/main/images/", "/admin/api/main/images/?search=dentist",
    "/admin/api/main/documents/", "/admin/api/main/documents/?search=dentist",
])
def test_lists_searches_and_choosers_show_only_own_media(libraries, url):
    html = html_of(libraries["client"].get(url))
    kind = "leaflet" if "documents" in url else "header"
    assert f"dentist Beta Clinic {kind}" in html
    assert "Alpha" not in html and "alpha" not in html


def test_filtering_by_another_organisations_collection_shows_nothing_of_it(libraries, alpha):
    for url in (f"/admin/images/?collection_id={alpha.collection.pk}",
                f"/admin/images/chooser/results/?collection_id={alpha.collection.pk}",
                f"/admin/documents/?collection_id={alpha.collection.pk}",
                f"/admin/documents/chooser/results/?collection_id={alpha.collection.pk}"):
        response = libraries["client"].get(url)
        assert response.status_code in (200, 404), url
        assert "Alpha" not in response.content.decode(), url


def test_choosing_own_media_works(libraries):
    client = libraries["client"]
    image, document = libraries["beta"]
    for url in (f"/admin/images/chooser/chosen/{image.pk}/", f"/admin/images/chooser/{image.pk}/select_format/",
                f"/admin/images/chooser/chosen-multiple/?id={image.pk}",
                f"/admin/documents/chooser/chosen/{document.pk}/",
                f"/admin/documents/chooser/chosen-multiple/?id={document.pk}"):
        assert "Beta Clinic" in html_of(client.get(url)), url


def test_choosing_another_organisations_media_reveals_nothing(libraries):
    client = libraries["client"]
    image, document = libraries["alpha"]
    own_image, own_document = libraries["beta"]
    for url in (f"/admin/images/chooser/chosen/{image.pk}/", f"/admin/images/chooser/{image.pk}/select_format/",
                f"/admin/documents/chooser/chosen/{document.pk}/"):
        assert client.get(url).status_code == 404, url
    response = client.post(f"/admin/images/chooser/{image.pk}/select_format/",
                           {"image-chooser-insertion-format": "fullwidth", "image-chooser-insertion-alt_text": "x"})
    assert response.status_code == 404
    # Choosing several at once: foreign ids are left out, own ones still come back.
    for url in (f"/admin/images/chooser/chosen-multiple/?id={image.pk}&id={own_image.pk}",
                f"/admin/documents/chooser/chosen-multiple/?id={document.pk}&id={own_document.pk}"):
        response = client.get(url)
        assert response.status_code in (200, 404), url
        body = response.content.decode()
        assert "Alpha" not in body and "alpha" not in body, url


# --- another organisation's ids -----------------------------------------------------------------

def foreign_media_urls(image, document):
    return [
        f"/admin/images/{image.pk}/",
        f"/admin/images/{image.pk}/delete/",
        f"/admin/images/usage/{image.pk}/",
        f"/admin/images/{image.pk}/generate_url/",
        f"/admin/images/{image.pk}/generate_url/output/?filter_method=fill&width=1600&height=500",
        f"/admin/images/{image.pk}/preview/fill-1600x500/",
        f"/admin/images/{image.pk}/preview/original/",
        f"/admin/api/main/images/{image.pk}/",
        f"/admin/documents/edit/{document.pk}/",
        f"/admin/documents/delete/{document.pk}/",
        f"/admin/documents/usage/{document.pk}/",
        f"/admin/api/main/documents/{document.pk}/",
        f"/documents/{document.pk}/{document.filename}",
    ]


def test_another_organisations_media_ids_are_404(libraries):
    client = libraries["client"]
    for url in foreign_media_urls(*libraries["alpha"]):
        assert client.get(url).status_code == 404, url


def test_own_media_urls_answer(libraries):
    """The same URLs for the organisation's own media: the 404s above are about the organisation, not the URL."""
    client = libraries["client"]
    image, document = libraries["beta"]
    for url in foreign_media_urls(image, document):
        if "/generate_url/" in url:
            # Wagtail's dynamic image-serving view is not installed (renditions are files), so its URL
            # generator does not exist for anyone.
            assert client.get(url).status_code == 404, url
        else:
            assert client.get(url).status_code == 200, url


def test_writes_to_another_organisations_media_are_404_and_change_nothing(libraries):
    client = libraries["client"]
    image, document = libraries["alpha"]
    posts = [
        (f"/admin/images/{image.pk}/", {"title": "Taken", "collection": image.collection_id}),
        (f"/admin/images/{image.pk}/delete/", {}),
        (f"/admin/images/multiple/{image.pk}/", {f"image-{image.pk}-title": "Taken"}),
        (f"/admin/images/multiple/{image.pk}/delete/", {}),
        (f"/admin/documents/edit/{document.pk}/", {"title": "Taken"}),
        (f"/admin/documents/delete/{document.pk}/", {}),
        (f"/admin/documents/multiple/{document.pk}/", {f"doc-{document.pk}-title": "Taken"}),
        (f"/admin/documents/multiple/{document.pk}/delete/", {}),
    ]
    for url, data in posts:
        assert client.post(url, data).status_code == 404, url
    for action, model in (("delete", "orgimage"), ("delete", "orgdocument")):
        ident = image.pk if model == "orgimage" else document.pk
        response = client.post(f"/admin/bulk/cms/{model}/{action}/?id={ident}", {})
        assert response.status_code in (302, 404), model
    with scopes_disabled():
        image.refresh_from_db()
        document.refresh_from_db()
    assert image.title == "dentist Alpha Practice header" and document.title == "dentist Alpha Practice leaflet"


def test_documents_are_served_only_on_their_own_organisations_host(libraries, alpha, beta):
    document = libraries["alpha"][1]
    url = f"/documents/{document.pk}/{document.filename}"
    response = host_client(alpha).get(url)
    assert response.status_code == 200 and b"".join(response.streaming_content) == b"%PDF-1.4 leaflet"
    assert host_client(beta).get(url).status_code == 404
    assert host_client(None).get(url).status_code == 404


# --- uploads ------------------------------------------------------------------------------------

def uploaded(org):
    with organization_scope(org):
        return list(OrgImage.objects.filter(title__startswith="Upload")) + list(
            OrgDocument.objects.filter(title__startswith="Upload"))


def assert_only_in(org, other, count):
    """`count` uploads are in `org`'s library and collection; none reached `other`'s."""
    mine = uploaded(org)
    assert len(mine) == count and {m.collection_id for m in mine} == {org.collection_id}
    assert uploaded(other) == []
    with scopes_disabled():
        assert not OrgImage.objects.filter(collection=other.collection, title__startswith="Upload").exists()
        assert not OrgDocument.objects.filter(collection=other.collection, title__startswith="Upload").exists()


def post_uploads(client, collection_id):
    """Every upload path of Wagtail's admin, each naming `collection_id` as the collection."""
    responses = [
        client.post("/admin/images/add/", {"title": "Upload single", "file": png_upload(),
                                           "collection": collection_id}),
        client.post("/admin/images/multiple/add/", {"files[]": png_upload("multi.png"),
                                                    "collection": collection_id, "title": "Upload multiple"}),
        client.post("/admin/images/chooser/create/", {"image-chooser-upload-title": "Upload chooser",
                                                      "image-chooser-upload-file": png_upload("chooser.png"),
                                                      "image-chooser-upload-collection": collection_id}),
        client.post("/admin/documents/add/", {"title": "Upload document",
                                              "file": SimpleUploadedFile("leaflet.pdf", b"%PDF-1.4 x"),
                                              "collection": collection_id}),
    ]
    # The multiple uploader names the new image after its file; give it the title the checks look for.
    with scopes_disabled():
        OrgImage.objects.filter(title="multi").update(title="Upload multiple")
    return responses


def test_uploads_go_into_the_organisations_collection_even_when_another_is_posted(libraries, alpha, beta):
    responses = post_uploads(libraries["client"], alpha.collection.pk)
    assert all(r.status_code in (200, 302) for r in responses), [r.status_code for r in responses]
    assert_only_in(beta, alpha, 4)


def test_an_admin_of_two_organisations_uploads_into_the_one_whose_host_they_use(alpha, beta):
    """Their groups give them both collections: the host decides, not the posted collection."""
    admin = alpha.people["admin"].user
    employee_create(organization=beta, actor=None, email=admin.email, first_name="Admin", last_name="Both",
                    role=Role.ORG_ADMIN, departments=[], send_invitation=False)
    client = signed_in_client(admin, beta)
    responses = post_uploads(client, alpha.collection.pk)
    assert all(r.status_code in (200, 302) for r in responses), [r.status_code for r in responses]
    assert_only_in(beta, alpha, 4)


def test_media_in_wagtails_root_collection_belong_to_no_organisation(alpha, beta):
    """The root collection is nobody's: media saved there outside a request are seen by no organisation."""
    with scopes_disabled():
        image = OrgImage.objects.create(title="Orphan", file=get_test_image_file(),
                                        collection=Collection.get_first_root_node())
    assert image.organization_id is None
    for org in (alpha, beta):
        with organization_scope(org):
            assert not OrgImage.objects.filter(pk=image.pk).exists()
        html = signed_in_client(org.people["admin"].user, org).get("/admin/images/").content.decode()
        assert "Orphan" not in html


def test_editing_own_media_cannot_move_it_to_another_organisation(alpha, beta):
    admin = alpha.people["admin"].user
    employee_create(organization=beta, actor=None, email=admin.email, first_name="Admin", last_name="Both",
                    role=Role.ORG_ADMIN, departments=[], send_invitation=False)
    image, document = media_for(beta, "moving")
    client = signed_in_client(admin, beta)
    client.post(f"/admin/images/{image.pk}/", {"title": "moving still beta", "collection": alpha.collection.pk})
    client.post(f"/admin/documents/edit/{document.pk}/", {"title": "moving still beta",
                                                          "collection": alpha.collection.pk})
    with scopes_disabled():
        image.refresh_from_db()
        document.refresh_from_db()
    for media in (image, document):
        assert media.collection_id == beta.collection_id and media.organization_id == beta.pk


def test_bulk_add_to_collection_does_not_exist_for_organisations(alpha, beta):
    """Each organisation has one collection; the bulk action skips the media's save, so it is platform-only."""
    admin = alpha.people["admin"].user
    employee_create(organization=beta, actor=None, email=admin.email, first_name="Admin", last_name="Both",
                    role=Role.ORG_ADMIN, departments=[], send_invitation=False)
    image, document = media_for(beta, "bulk")
    client = signed_in_client(admin, beta)
    for model, media in (("orgimage", image), ("orgdocument", document)):
        url = f"/admin/bulk/cms/{model}/add_to_collection/?id={media.pk}"
        assert client.get(url).status_code == 404
        assert client.post(url, {"collection": alpha.collection.pk}).status_code == 404
        with scopes_disabled():
            media.refresh_from_db()
        assert media.collection_id == beta.collection_id


def test_page_sections_cannot_use_another_organisations_image(alpha, beta):
    """A header or main-text image id of another organisation: refused when posted, nothing when rendered."""
    from django.core.exceptions import ValidationError

    from cms.blocks import HeaderBlock

    foreign, _ = media_for(alpha, "section")
    own, _ = media_for(beta, "section")
    block = HeaderBlock().child_blocks["image"]
    with organization_scope(beta):
        assert block.value_from_datadict({"image": str(foreign.pk)}, {}, "image") is None
        with pytest.raises(ValidationError):
            block.clean(foreign.pk)
        assert block.bulk_to_python([foreign.pk, own.pk]) == [None, own]


# --- renditions ---------------------------------------------------------------------------------

def test_header_renditions_are_made_for_an_org_image_and_served(libraries, settings):
    image = libraries["beta"][0]
    with organization_scope(image.organization):
        rendition = image.get_rendition("fill-1600x500")
        again = image.get_rendition("fill-1600x500")
    assert again.pk == rendition.pk  # made once, then reused
    assert (rendition.width, rendition.height) == (1600, 500)
    assert rendition.url.startswith(settings.MEDIA_URL) and rendition.file.storage.exists(rendition.file.name)
    with rendition.file.open("rb") as stored:
        assert PILImage.open(stored).size == (1600, 500)
    # The admin preview serves the rendition's bytes to the organisation's own admin.
    response = libraries["client"].get(f"/admin/images/{image.pk}/preview/fill-1600x500/")
    assert response.status_code == 200 and response["Content-Type"].startswith("image/")
    assert PILImage.open(io.BytesIO(b"".join(response.streaming_content))).size == (1600, 500)


def test_a_practitioner_has_no_media_library(libraries, beta):
    client = signed_in_client(beta.people["gp"].user, beta)
    image = libraries["beta"][0]
    for url in ("/admin/images/", "/admin/documents/", "/admin/images/chooser/", f"/admin/images/{image.pk}/"):
        assert client.get(url).status_code == 404, url
