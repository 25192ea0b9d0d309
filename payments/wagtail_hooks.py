"""The payment screens in the organisation admin: "Payments" in the main menu (payments list, rates, VAT rules)
and Settings → Payments (providers and keys). Shown to whoever orgs.policy.can_manage_payments allows."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import Menu, SubmenuMenuItem

from .views.admin import PaymentsMenuItem, RateViewSet, VatRuleViewSet, admin_urls


@hooks.register("register_admin_viewset")
def register_viewsets():
    return [RateViewSet(), VatRuleViewSet()]


@hooks.register("register_admin_urls")
def register_admin_urls():
    return admin_urls()


@hooks.register("register_admin_menu_item")
def register_payments_menu():
    items = [
        PaymentsMenuItem(_("Payments received"), reverse("payment_list"), name="payments-list", icon_name="list-ul",
                         order=10),
        PaymentsMenuItem(_("Rates"), reverse("payment_rates:index"), name="payment-rates", icon_name="tag",
                         order=20),
        PaymentsMenuItem(_("VAT rules"), reverse("payment_vat_rules:index"), name="payment-vat-rules",
                         icon_name="list-ul", order=30),
    ]
    return SubmenuMenuItem(_("Payments"), Menu(items=items), name="payments", icon_name="form", order=240)


@hooks.register("register_settings_menu_item")
def register_settings_item():
    return PaymentsMenuItem(_("Payments"), reverse("payment_settings"), name="payment-settings", icon_name="cogs",
                            order=15)
