"""The organisation admin's payment screens in the Wagtail admin (F-PAY-1): payment settings with the provider
keys, rates, VAT rules, the payments list and its CSV export for the bookkeeper.

Thin adapters on the orgs admin patterns: forms validate, payments/settings_services.py writes and audits, the
scoped managers keep every lookup inside the request's organisation (another organisation's id is a 404).
Wagtail's model permissions are not used here (permission_policy = None): who may is orgs.policy's decision,
checked in dispatch.
"""

from asgiref.sync import sync_to_async
from django.core.exceptions import ValidationError
from django.core.handlers.asgi import ASGIRequest
from django.core.paginator import Paginator
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import TemplateView
from wagtail.admin import messages
from wagtail.admin.menu import MenuItem
from wagtail.admin.ui.tables import BooleanColumn, Column, TitleColumn
from wagtail.admin.views import generic
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.viewsets.model import ModelViewSet

from orgs import policy
from orgs.forms import add_service_errors
from orgs.services import audit_record, changed_fields
from orgs.views.admin import ServiceErrorsAsFormErrors

from .. import bookkeeping, selectors, settings_services
from ..forms import PaymentFilterForm, PaymentSettingsForm, RateForm, VatPreviewForm, VatRuleForm
from ..models import Provider, Rate, VatRule
from ..vat import EU_COUNTRIES

STRIPE_EVENTS = ("checkout.session.completed", "checkout.session.async_payment_succeeded",
                 "checkout.session.async_payment_failed", "checkout.session.expired", "charge.refunded",
                 "refund.updated")
PAYPAL_EVENTS = ("PAYMENT.CAPTURE.COMPLETED", "PAYMENT.CAPTURE.DENIED", "PAYMENT.CAPTURE.REFUNDED",
                 "CHECKOUT.ORDER.APPROVED")
PAGE_SIZE = 50


def require_payments_admin(request):
    if request.organization is None or not policy.can_manage_payments(request.membership):
        raise Http404


class PaymentsAdminOnly:
    permission_policy = None

    def dispatch(self, request, *args, **kwargs):
        require_payments_admin(request)
        return super().dispatch(request, *args, **kwargs)


class PaymentsMenuItem(MenuItem):
    def is_shown(self, request):
        return request.organization is not None and policy.can_manage_payments(request.membership)


# --- settings ---------------------------------------------------------------------------------

def provider_status(row):
    """{provider: "" when ready, else what is missing}, in the order the form asks for it."""
    stripe_missing = [label for ok, label in (
        (row.stripe_secret_key_sealed, _("secret key")),
        (row.stripe_webhook_secret_sealed, _("webhook secret"))) if not ok]
    paypal_missing = [label for ok, label in (
        (row.paypal_client_id, _("client ID")), (row.paypal_secret_sealed, _("secret")),
        (row.paypal_webhook_id, _("webhook ID"))) if not ok]
    return [(Provider.STRIPE.label, ", ".join(stripe_missing)), (Provider.PAYPAL.label, ", ".join(paypal_missing))]


class PaymentSettingsView(PaymentsAdminOnly, WagtailAdminTemplateMixin, TemplateView):
    """Settings → Payments. Organisation admins see it; only admins in person change it: during remote support
    the form is shown read-only (policy.can_change_payment_credentials)."""

    template_name = "payments/admin/settings.html"
    page_title = gettext_lazy("Payments")
    header_icon = "cogs"

    def get_breadcrumbs_items(self):
        return self.breadcrumbs_items + [{"url": "", "label": self.page_title}]

    @property
    def may_change(self):
        return policy.can_change_payment_credentials(self.request.membership)

    def get_form(self, data=None):
        return PaymentSettingsForm(data, instance=selectors.settings_for(self.request.organization),
                                   read_only=not self.may_change)

    def get_context_data(self, form=None, **kwargs):
        context = super().get_context_data(**kwargs)
        row = selectors.settings_for(self.request.organization)
        base = self.request.organization.base_url
        context.update(
            form=form or self.get_form(), may_change=self.may_change, settings_row=row,
            status=provider_status(row),
            stripe_webhook_url=base + reverse("payments:stripe_webhook"), stripe_events=STRIPE_EVENTS,
            paypal_webhook_url=base + reverse("payments:paypal_webhook"), paypal_events=PAYPAL_EVENTS,
        )
        return context

    def post(self, request, *args, **kwargs):
        if not self.may_change:
            messages.error(request, _("Payment settings can only be changed by an organisation admin signed in "
                                      "personally."))
            return redirect("payment_settings")
        form = self.get_form(request.POST)
        if form.is_valid():
            try:
                settings_services.settings_update(member=request.membership, values=form.settings_values(),
                                                  secrets=form.secrets(), request=request)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, _("Payment settings saved."))
                return redirect("payment_settings")
        messages.error(request, _("The payment settings could not be saved because of errors."))
        return self.render_to_response(self.get_context_data(form=form))


# --- rates ------------------------------------------------------------------------------------

class RateIndexView(PaymentsAdminOnly, generic.IndexView):
    def get_base_queryset(self):
        return Rate.objects.filter(organization=self.request.organization)


class RateCreateView(PaymentsAdminOnly, ServiceErrorsAsFormErrors, generic.CreateView):
    def get_initial_form_instance(self):
        return Rate(organization=self.request.organization)

    def save_instance(self):
        data = self.form.cleaned_data
        return settings_services.rate_create(
            member=self.request.membership, name=data["name"], amount=data["amount"], currency=data["currency"],
            is_active=data["is_active"], request=self.request)


class RateEditView(PaymentsAdminOnly, ServiceErrorsAsFormErrors, generic.EditView):
    def save_instance(self):
        rate = self.form.save(commit=False)
        return settings_services.rate_update(member=self.request.membership, rate=rate,
                                             changes=changed_fields(self.form), request=self.request)


class RateDeleteView(PaymentsAdminOnly, generic.DeleteView):
    template_name = "payments/admin/rate_confirm_delete.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["charge_count"] = self.object.charges.count()
        return context

    def delete_action(self):
        settings_services.rate_delete(member=self.request.membership, rate=self.object, request=self.request)


class RateViewSet(ModelViewSet):
    model = Rate
    name = "payment_rates"
    url_prefix = "payments/rates"
    icon = "tag"
    menu_label = gettext_lazy("Rates")
    form_class = RateForm
    copy_view_enabled = False
    inspect_view_enabled = False
    index_view_class = RateIndexView
    add_view_class = RateCreateView
    edit_view_class = RateEditView
    delete_view_class = RateDeleteView
    list_display = [
        TitleColumn("name", label=gettext_lazy("Name"), url_name="payment_rates:edit"),
        Column("amount", label=gettext_lazy("Amount before VAT")),
        Column("currency", label=gettext_lazy("Currency")),
        BooleanColumn("is_active", label=gettext_lazy("Active")),
    ]

    def get_form_class(self, for_update=False):
        return RateForm


# --- VAT rules --------------------------------------------------------------------------------

class VatRuleIndexView(PaymentsAdminOnly, generic.IndexView):
    template_name = "payments/admin/vat_rules_index.html"

    def get_base_queryset(self):
        return VatRule.objects.filter(organization=self.request.organization)

    def get_context_data(self, *args, **kwargs):
        context = super().get_context_data(*args, **kwargs)
        row = selectors.settings_for(self.request.organization)
        context["seller_country"] = row.seller_country
        context["seller_in_eu"] = str(row.seller_country) in EU_COUNTRIES
        context["preview_url"] = reverse("payment_vat_preview")
        return context


class VatRuleCreateView(PaymentsAdminOnly, ServiceErrorsAsFormErrors, generic.CreateView):
    def get_initial_form_instance(self):
        return VatRule(organization=self.request.organization)

    def save_instance(self):
        data = self.form.cleaned_data
        return settings_services.vat_rule_create(
            member=self.request.membership, country=data["country"], client_type=data["client_type"],
            percent=data["percent"], note=data["note"], request=self.request)


class VatRuleEditView(PaymentsAdminOnly, ServiceErrorsAsFormErrors, generic.EditView):
    def save_instance(self):
        rule = self.form.save(commit=False)
        return settings_services.vat_rule_update(member=self.request.membership, rule=rule,
                                                 changes=changed_fields(self.form), request=self.request)


class VatRuleDeleteView(PaymentsAdminOnly, generic.DeleteView):
    def delete_action(self):
        settings_services.vat_rule_delete(member=self.request.membership, rule=self.object, request=self.request)


def vat_rule_country(rule):
    return rule.country.name if rule.country else _("Every other country")


class VatRuleViewSet(ModelViewSet):
    model = VatRule
    name = "payment_vat_rules"
    url_prefix = "payments/vat-rules"
    icon = "list-ul"
    menu_label = gettext_lazy("VAT rules")
    form_class = VatRuleForm
    copy_view_enabled = False
    inspect_view_enabled = False
    index_view_class = VatRuleIndexView
    add_view_class = VatRuleCreateView
    edit_view_class = VatRuleEditView
    delete_view_class = VatRuleDeleteView
    list_display = [
        TitleColumn("country", label=gettext_lazy("Client's country"), url_name="payment_vat_rules:edit",
                    accessor=vat_rule_country),
        Column("client_type", label=gettext_lazy("Client type"), accessor="get_client_type_display"),
        Column("percent", label=gettext_lazy("VAT %")),
        Column("note", label=gettext_lazy("Note on the receipt")),
    ]

    def get_form_class(self, for_update=False):
        return VatRuleForm


class VatPreviewView(PaymentsAdminOnly, WagtailAdminTemplateMixin, TemplateView):
    """“Try it”: the amounts a client of a country and type would pay for a rate, by the current rules."""

    template_name = "payments/admin/vat_preview.html"
    page_title = gettext_lazy("Try the VAT rules")
    header_icon = "list-ul"

    def get_breadcrumbs_items(self):
        return self.breadcrumbs_items + [
            {"url": reverse("payment_vat_rules:index"), "label": _("VAT rules")},
            {"url": "", "label": self.page_title},
        ]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        organization = self.request.organization
        rates = Rate.objects.filter(organization=organization)
        # Most clients live where the organisation does: "Try it" starts there.
        seller_country = str(selectors.settings_for(organization).seller_country or "")
        form = VatPreviewForm(self.request.GET or None, rates=rates, initial={"country": seller_country})
        if form.is_bound and form.is_valid():
            data = form.cleaned_data
            context["rate"] = data["rate"]
            context["quote"] = selectors.quote(organization=organization, charge=data["rate"],
                                               client_country=data["country"], client_type=data["client_type"],
                                               vat_number=data["vat_number"])
        context["form"] = form
        return context


# --- payments list and export -----------------------------------------------------------------

def payment_filter_of(request):
    """The list's filters from the query string (invalid ones are shown on the form and not applied)."""
    form = PaymentFilterForm(request.GET or None)
    if not form.is_bound or not form.is_valid():
        return form, bookkeeping.PaymentFilter()
    data = form.cleaned_data
    return form, bookkeeping.PaymentFilter(date_from=data.get("date_from"), date_to=data.get("date_to"),
                                           status=data.get("status") or "", provider=data.get("provider") or "")


class PaymentListView(PaymentsAdminOnly, WagtailAdminTemplateMixin, TemplateView):
    """Who paid what. Billing names and what the consult was for are patient data: each page view is audited."""

    template_name = "payments/admin/payments_list.html"
    page_title = gettext_lazy("Payments")
    header_icon = "list-ul"

    def get_breadcrumbs_items(self):
        return self.breadcrumbs_items + [{"url": "", "label": self.page_title}]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        organization = self.request.organization
        form, payment_filter = payment_filter_of(self.request)
        page = Paginator(bookkeeping.payments_for_bookkeeping(organization, payment_filter), PAGE_SIZE).get_page(
            self.request.GET.get("p"))
        audit_record(organization=organization, actor=self.request.user, action="payment.list",
                     changes={**payment_filter.as_audit(), "page": page.number, "rows": len(page.object_list)},
                     request=self.request, subject=_("payers of the organisation"))
        query = self.request.GET.copy()
        query.pop("p", None)
        context.update(form=form, page=page, query=query.urlencode(), status=payment_filter.status,
                       paid_only_url=reverse("payment_list") + "?status=paid",
                       export_url=reverse("payment_export") + (f"?{query.urlencode()}" if query else ""))
        return context


def _stream(request, organization, payment_filter):
    """The CSV in batches: the header, then a batch of rows at a time, each read on its own (bookkeeping.py).
    Under ASGI an async iterator, so the server sends each batch as it is made instead of collecting the file."""
    batches = bookkeeping.csv_batches(organization, payment_filter)
    # The batches are made after the view returned, under ASGI in other threads: the admin's language would be
    # gone by then (an English header over Dutch rows), so it is taken along.
    language = translation.get_language()
    if isinstance(request, ASGIRequest):
        async def chunks():
            yield bookkeeping.csv_head(language)
            for ids in batches:
                yield await sync_to_async(bookkeeping.csv_text_of)(organization, ids, language)
        return chunks()

    def chunks_sync():
        yield bookkeeping.csv_head(language)
        for ids in batches:
            yield bookkeeping.csv_text_of(organization, ids, language)
    return chunks_sync()


class PaymentExportView(PaymentsAdminOnly, View):
    def get(self, request, *args, **kwargs):
        organization = request.organization
        form, payment_filter = payment_filter_of(request)
        if form.is_bound and not form.is_valid():
            messages.error(request, _("Correct the filters before exporting."))
            return redirect(reverse("payment_list") + "?" + request.GET.urlencode())
        audit_record(organization=organization, actor=request.user, action="payment.export",
                     changes=payment_filter.as_audit(), request=request,
                     subject=_("payers of the organisation"))
        response = StreamingHttpResponse(_stream(request, organization, payment_filter),
                                         content_type="text/csv; charset=utf-8")
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        response["Content-Disposition"] = f'attachment; filename="payments-{organization.subdomain}-{stamp}.csv"'
        response["Cache-Control"] = "no-store"
        return response


def admin_urls():
    return [
        path("payments/settings/", PaymentSettingsView.as_view(), name="payment_settings"),
        path("payments/", PaymentListView.as_view(), name="payment_list"),
        path("payments/export.csv", PaymentExportView.as_view(), name="payment_export"),
        path("payments/vat-rules-preview/", VatPreviewView.as_view(), name="payment_vat_preview"),
    ]
