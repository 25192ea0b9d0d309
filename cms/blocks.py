"""The sections an organisation admin puts on its web pages (StreamField blocks).

Main pages: image header, main text, widget, subtext. Follow-up pages: the same without the widget.
Every block renders through a template in cms/templates/cms/blocks/; themes style them by class name.
"""

from django import forms
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from wagtail import blocks
from wagtail.images.blocks import ImageChooserBlock
from wagtail.snippets.blocks import SnippetChooserBlock

from .colours import validate_colour

RICH_TEXT_FEATURES = ["h2", "h3", "h4", "bold", "italic", "ol", "ul", "link", "document-link"]
SUBTEXT_FEATURES = ["bold", "italic", "ol", "ul", "link", "document-link"]


class ColourInput(forms.TextInput):
    """The browser's colour picker; it always submits #rrggbb."""

    input_type = "color"


class ColourBlock(blocks.FieldBlock):
    """A #rrggbb colour, chosen with the browser's colour picker."""

    def __init__(self, required=True, help_text=None, **kwargs):
        self.field_options = {"required": required, "help_text": help_text}
        super().__init__(**kwargs)

    @cached_property
    def field(self):
        # The browser's colour picker cannot be left empty (it sends #000000), so an optional colour is typed.
        widget = ColourInput() if self.field_options["required"] else forms.TextInput(
            attrs={"placeholder": "#1f2933", "pattern": "#[0-9a-fA-F]{6}", "size": 8, "maxlength": 7})
        return forms.CharField(max_length=7, validators=[validate_colour], widget=widget, **self.field_options)

    class Meta:
        icon = "palette"


class OrganizationChooserMixin:
    """Chooser blocks for models scoped per organisation (images, widgets).

    Block instances are shared by every request of the process, and Wagtail caches the form field, and
    with it a queryset filtered by whichever organisation's scope was active when it was first built: the
    field is built afresh each time, in the current scope. An empty chooser needs no query at all (the preset
    page set is saved before any organisation scope exists).
    """

    @property
    def field(self):
        return forms.ModelChoiceField(
            queryset=self.model_class.objects.all(), widget=self.widget, required=self._required,
            validators=self._validators, help_text=self._help_text,
        )

    def bulk_to_python(self, values):
        values = list(values)
        if all(value is None for value in values):
            return [None] * len(values)
        return super().bulk_to_python(values)


class OrgImageChooserBlock(OrganizationChooserMixin, ImageChooserBlock):
    pass


class OrgSnippetChooserBlock(OrganizationChooserMixin, SnippetChooserBlock):
    pass


class HeaderBlock(blocks.StructBlock):
    image = OrgImageChooserBlock(
        label=_("image"),
        help_text=_("A wide photo works best (at least 1600 × 500 pixels). Its description is read out "
                    "to blind visitors: describe the image in the media library."),
    )
    heading = blocks.CharBlock(label=_("heading"), required=False, max_length=120)
    text = blocks.CharBlock(label=_("short text under the heading"), required=False, max_length=200)

    class Meta:
        icon = "image"
        label = _("Image header")
        template = "cms/blocks/header.html"


class MainTextBlock(blocks.StructBlock):
    title = blocks.CharBlock(label=_("title"), required=False, max_length=120)
    text = blocks.RichTextBlock(label=_("text"), features=RICH_TEXT_FEATURES)
    text_colour = ColourBlock(
        label=_("text colour"), required=False,
        help_text=_("Leave empty to use the page's text colour, or type a colour as #rrggbb."),
    )
    image = OrgImageChooserBlock(label=_("image"), required=False)
    image_position = blocks.ChoiceBlock(
        label=_("image position"), default="right",
        choices=[("right", _("right of the text")), ("left", _("left of the text")), ("above", _("above the text"))],
    )

    class Meta:
        icon = "doc-full"
        label = _("Main text")
        template = "cms/blocks/main_text.html"


class WidgetBlock(blocks.StructBlock):
    walk_in = OrgSnippetChooserBlock("widgets.WalkInWidget", label=_("walk-in widget"), required=False)
    booking = OrgSnippetChooserBlock("widgets.BookingWidget", label=_("booking widget"), required=False)
    # One chat widget per organisation (F-CHAT-6): nothing to choose, only whether this section shows it. While
    # the organisation has it switched off, the frame says chat is not available and how to reach the practice.
    chat = blocks.BooleanBlock(
        label=_("chat window"), required=False,
        help_text=_("Visitors can send you a message. Switch the chat widget on under Organisation settings, "
                    "tab Chat."),
    )
    title = blocks.CharBlock(label=_("title"), required=False, max_length=120)

    class Meta:
        icon = "user"
        label = _("Walk-in and booking")
        template = "cms/blocks/widgets.html"
        help_text = _("Choose a walk-in widget, a booking widget, the chat window, or several. You make widgets under "
                      "Widgets.")


class SubtextBlock(blocks.StructBlock):
    title = blocks.CharBlock(label=_("title"), required=False, max_length=120)
    text = blocks.RichTextBlock(label=_("text"), features=SUBTEXT_FEATURES)

    class Meta:
        icon = "openquote"
        label = _("Subtext")
        template = "cms/blocks/subtext.html"


class FollowUpSections(blocks.StreamBlock):
    header = HeaderBlock()
    main_text = MainTextBlock()
    subtext = SubtextBlock()


class MainSections(blocks.StreamBlock):
    header = HeaderBlock()
    main_text = MainTextBlock()
    widgets = WidgetBlock()
    subtext = SubtextBlock()
