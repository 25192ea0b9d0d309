"""Writes on the organisation's web site that are more than a page edit."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from orgs.services import audit_record

from .models import MainPage
from .selectors import organization_pages


@transaction.atomic
def page_set_make_live(*, organization, actor, main_page, request=None):
    """Make `main_page`'s page set the one visitors see (in every language it is live in)."""
    home = organization.root_page.specific
    main_page = main_page.specific
    if not isinstance(main_page, MainPage) or not organization_pages(organization).filter(pk=main_page.pk).exists():
        raise ValidationError(_("Choose one of this site's own web pages."))
    if not main_page.live:
        raise ValidationError(_("Publish this web page first; then make it the live web page."))
    previous = home.published_set
    if previous is not None and previous.translation_key == main_page.translation_key:
        return home  # already live (possibly through another language's copy)
    home.published_set = main_page
    home.full_clean()
    # A published revision of the site root: the page cache hears of it (page_published) like any publish.
    home.save_revision(user=actor).publish(user=actor)
    audit_record(
        organization=organization, actor=actor, action="web_page.make_live", target=main_page, request=request,
        changes={"published_set": [previous.title if previous else None, main_page.title]},
    )
    return home
