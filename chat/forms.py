"""Forms of the staff chat pages. They check shape only; who may do what is orgs.policy's, and the services
validate again before writing."""

from django import forms
from django.utils.translation import gettext_lazy as _

from orgs import policy
from orgs.models import Membership, Role

# The services refuse longer texts too; the form says so before the round trip.
MAX_MESSAGE_LENGTH = 4000


class MessageForm(forms.Form):
    text = forms.CharField(label=_("Message"), max_length=MAX_MESSAGE_LENGTH, strip=True,
                           widget=forms.Textarea(attrs={"rows": 3}))


class AccessForm(forms.Form):
    allowed = forms.TypedChoiceField(choices=[("1", _("Grant")), ("0", _("Revoke"))],
                                     coerce=lambda value: value == "1")


def practitioner_choices(member, client):
    """The colleagues `member` may open a chat channel for with `client` (policy.can_create_channel):
    themselves for a practitioner, the practitioners of the client's department for its admin, anyone for the
    organisation's admin."""
    if member.role == Role.PRACTITIONER:
        candidates = [member]  # a practitioner only ever opens their own; asking about colleagues is wasted work
    else:
        candidates = (policy.visible_employees(member, Membership.objects.all())
                      .filter(is_active=True).select_related("user"))
    return [candidate for candidate in candidates if policy.can_create_channel(member, client, candidate)]


class ChannelCreateForm(forms.Form):
    practitioner = forms.ModelChoiceField(label=_("Practitioner"), queryset=Membership.objects.none(),
                                          empty_label=None)

    def __init__(self, *args, member, client, **kwargs):
        super().__init__(*args, **kwargs)
        allowed = practitioner_choices(member, client)
        self.fields["practitioner"].queryset = Membership.objects.filter(pk__in=[p.pk for p in allowed])
        self.allowed = allowed
