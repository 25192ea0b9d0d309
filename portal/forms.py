from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import User

MAX_PHOTO_BYTES = 4 * 1024 * 1024


class ProfileForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["first_name", "last_name", "phone", "photo", "language"]
        widgets = {
            "phone": forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
            "first_name": forms.TextInput(attrs={"autocomplete": "given-name"}),
            "last_name": forms.TextInput(attrs={"autocomplete": "family-name"}),
            "photo": forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
        }
        help_texts = {
            "photo": _("Shown to clients in the consultation room. JPEG, PNG or WebP, at most 4 MB."),
            "language": _("The language of your screens and emails."),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["first_name"].required = True
        self.fields["last_name"].required = True

    def clean_photo(self):
        photo = self.cleaned_data.get("photo")
        if photo and hasattr(photo, "size") and photo.size > MAX_PHOTO_BYTES:
            raise forms.ValidationError(_("The photo is larger than 4 MB; choose a smaller one."))
        if photo and hasattr(photo, "image") and photo.image.format not in ("JPEG", "PNG", "WEBP"):
            raise forms.ValidationError(_("Choose a JPEG, PNG or WebP image."))
        return photo
