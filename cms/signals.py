"""A translation of an organisation's site root gets the same page permissions as the root itself.

wagtail-localize puts a translated site root beside the original (under Wagtail's root), outside the tree
the organisation admins' permissions were granted on; without this they could not edit their translations.
"""

from django.db.models.signals import post_save
from django.dispatch import receiver

from .models import OrganizationHomePage


@receiver(post_save, sender=OrganizationHomePage)
def grant_permissions_on_translated_site_root(sender, instance, created, raw=False, **kwargs):
    if not created or raw:
        return
    from orgs.services import group_permissions_sync

    from .models import organization_of_page

    organization = organization_of_page(instance)
    if organization is not None:  # None while org_create builds the first root
        group_permissions_sync(organization)
