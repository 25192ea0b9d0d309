"""The public chat widget's start form (F-CHAT-6): a website visitor's name, email address and first message."""

from django import forms
from django.utils.translation import gettext_lazy as _

NAME_MAX_CHARS = 120  # Channel.visitor_name
TEXT_MAX_CHARS = 4000  # chat.services.clean_text refuses longer texts too


class ChatStartForm(forms.Form):
    token = forms.CharField(widget=forms.HiddenInput)
    name = forms.CharField(label=_("Your name"), max_length=NAME_MAX_CHARS,
                           widget=forms.TextInput(attrs={"autocomplete": "name"}))
    # Required: the issue asks for "a visitor's name and email", and a reply written while the visitor is away
    # can only reach them by email.
    email = forms.EmailField(label=_("Your email address"), max_length=254,
                             help_text=_("We email you when we reply and you have left this page. Never the "
                                         "message itself."),
                             widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    text = forms.CharField(label=_("Your message"), max_length=TEXT_MAX_CHARS,
                           widget=forms.Textarea(attrs={"rows": 4}))
    # The honeypot: hidden from people (off screen, out of the tab order, hidden from screen readers), filled in
    # by robots that fill in every field. Its name is one no browser autofills.
    leave_empty = forms.CharField(label=_("Leave this field empty"), required=False,
                                  widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}))

    def is_spam(self):
        return bool(self.data.get("leave_empty", ""))
