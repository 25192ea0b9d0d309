"""Custom CSS of an organisation, reduced to an allow-list before it reaches a <style> element.

The stylesheet is parsed with tinycss2 and rebuilt from what is known to be harmless: style rules with
ordinary selectors, visual properties, `@media`/`@supports` around such rules, and `@font-face` whose
files are the organisation's own. Everything else is dropped and reported (`Removal(text, reason)`), so
the editor can see what would go and why. tinycss2 decodes CSS escapes while tokenising, so `\\65xpression(`
or `u\\rl(` arrive here as the names they spell and meet the same checks as the plain words.

Decisions:
- `url()` only for files of the organisation's own media library (images, renditions, documents), by
  their exact storage URL on our host; no other host, no `data:`/`javascript:`.
- `position: fixed` is refused: a fixed layer can cover the whole page, including the platform's own parts
  (language switch, widgets, footer). `sticky`, `absolute`, `relative`, `static` stay.
- Properties whose values we restrict (`position`, `display`) refuse `var()`, which could carry any value.
- Comments are dropped; `!important` stays.
- The output is canonical (`selector {\\n  property: value;\\n}`), never contains `<`, and sanitising it
  again changes nothing.
"""

import re
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

import tinycss2
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy

MAX_CSS_BYTES = 50 * 1024
MAX_NESTING = 3  # @media inside @supports inside @media is plenty
SNIPPET_LENGTH = 80

PROPERTIES = frozenset(
    """
    color background background-color background-image background-position background-position-x
    background-position-y background-size background-repeat background-attachment background-clip
    background-origin background-blend-mode
    font font-family font-size font-style font-weight font-variant font-stretch font-feature-settings
    font-kerning font-size-adjust font-display font-synthesis
    text-align text-align-last text-decoration text-decoration-color text-decoration-line
    text-decoration-style text-decoration-thickness text-underline-offset text-indent text-transform
    text-shadow text-overflow text-wrap text-rendering white-space word-break word-spacing overflow-wrap
    hyphens line-height letter-spacing vertical-align list-style list-style-type list-style-position
    list-style-image
    margin margin-top margin-right margin-bottom margin-left margin-block margin-inline
    margin-block-start margin-block-end margin-inline-start margin-inline-end
    padding padding-top padding-right padding-bottom padding-left padding-block padding-inline
    padding-block-start padding-block-end padding-inline-start padding-inline-end
    border border-top border-right border-bottom border-left border-color border-style border-width
    border-top-color border-right-color border-bottom-color border-left-color border-top-style
    border-right-style border-bottom-style border-left-style border-top-width border-right-width
    border-bottom-width border-left-width border-radius border-top-left-radius border-top-right-radius
    border-bottom-left-radius border-bottom-right-radius border-collapse border-spacing
    border-block border-inline
    outline outline-color outline-style outline-width outline-offset box-shadow box-sizing
    width height max-width max-height min-width min-height inline-size block-size aspect-ratio
    display position top right bottom left inset z-index float clear overflow overflow-x overflow-y
    visibility object-fit object-position
    gap row-gap column-gap flex flex-basis flex-direction flex-flow flex-grow flex-shrink flex-wrap order
    grid grid-area grid-auto-columns grid-auto-flow grid-auto-rows grid-column grid-column-end
    grid-column-start grid-row grid-row-end grid-row-start grid-template grid-template-areas
    grid-template-columns grid-template-rows
    align-content align-items align-self justify-content justify-items justify-self place-content
    place-items place-self
    opacity transition transition-delay transition-duration transition-property
    transition-timing-function transform transform-origin filter cursor accent-color caret-color
    table-layout caption-side empty-cells column-count column-width columns
    """.split()
)
FONT_FACE_DESCRIPTORS = frozenset(
    "font-family src font-style font-weight font-stretch font-display unicode-range".split()
)
# Values allowed for properties we restrict (everything else of these properties is refused).
RESTRICTED_VALUES = {
    "position": frozenset({"static", "relative", "absolute", "sticky"}),
    "display": frozenset(
        """none block inline inline-block flex inline-flex grid inline-grid flow-root contents list-item
        table table-row table-cell table-caption table-row-group table-header-group table-footer-group
        table-column table-column-group inline-table""".split()
    ),
}
GLOBAL_KEYWORDS = frozenset({"inherit", "initial", "unset", "revert", "revert-layer"})
VALUE_FUNCTIONS = frozenset(
    """
    rgb rgba hsl hsla hwb lab lch oklab oklch color color-mix light-dark calc min max clamp var
    linear-gradient radial-gradient conic-gradient repeating-linear-gradient repeating-radial-gradient
    repeating-conic-gradient cubic-bezier steps minmax repeat fit-content
    translate translatex translatey translate3d scale scalex scaley rotate rotatex rotatey rotatez skew
    skewx skewy matrix perspective
    blur brightness contrast drop-shadow grayscale hue-rotate invert saturate sepia
    format local
    """.split()
)
SELECTOR_FUNCTIONS = frozenset({"not", "is", "where", "has", "nth-child", "nth-last-child", "nth-of-type",
                                "nth-last-of-type", "lang", "dir"})
SUPPORTS_FUNCTIONS = frozenset({"selector"})
UNICODE_RANGE_ONE = r"[Uu]\+[0-9A-Fa-f?]{1,6}(-[0-9A-Fa-f]{1,6})?"
UNICODE_RANGE = re.compile(rf"^{UNICODE_RANGE_ONE}(\s*,\s*{UNICODE_RANGE_ONE})*$")
MEDIA_WORDS = re.compile(r"^[a-z-]+$")  # media types, features and and/or/not/only


@dataclass(frozen=True)
class Removal:
    text: str
    reason: str


@dataclass
class SanitizedCss:
    css: str
    removed: list = field(default_factory=list)

    def __str__(self):
        return self.css


class RefusedError(Exception):
    """A part of the stylesheet that cannot stay; `reason` is shown to the editor."""

    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


# Reasons, one sentence each, shown in the editor next to what was removed.
REASONS = {
    "import": gettext_lazy("imports load styles from other sites"),
    "charset": gettext_lazy("the character set is fixed by the page"),
    "namespace": gettext_lazy("namespaces are not needed in a web page's styles"),
    "font-face": gettext_lazy("fonts may come only from your own media library"),
    "at-rule": gettext_lazy("this kind of @-rule is not supported in custom CSS"),
    "selector": gettext_lazy("this selector uses something other than elements, classes, ids, attributes "
                             "and ordinary pseudo-classes"),
    "property": gettext_lazy("this property is not on the list of allowed visual properties"),
    "behavior": gettext_lazy("behaviours and bindings run code in old browsers"),
    "expression": gettext_lazy("expressions run code in old browsers"),
    "url": gettext_lazy("addresses may point only to files in your own media library"),
    "script-url": gettext_lazy("javascript: and data: addresses can run code or hide content"),
    "function": gettext_lazy("this function is not allowed in custom CSS"),
    "value": gettext_lazy("this value is not allowed for this property"),
    "fixed": gettext_lazy("fixed positioning could cover the whole page"),
    "var": gettext_lazy("var() is not allowed for this property, because it could carry any value"),
    "breakout": gettext_lazy("the character < could end the style element and start HTML"),
    "nested": gettext_lazy("rules nested this deep are not supported"),
    "invalid": gettext_lazy("this is not valid CSS"),
    "too-large": format_lazy(gettext_lazy("custom CSS may be at most {size} KB"), size=MAX_CSS_BYTES // 1024),
}


def _reason(key):
    return str(REASONS[key])


def snippet(text):
    text = " ".join(text.split())
    return text if len(text) <= SNIPPET_LENGTH else text[: SNIPPET_LENGTH - 1] + "…"


def _serialize(nodes):
    """Serialise component values with runs of whitespace (and comments) as one space, trimmed."""
    parts = []
    for node in nodes:
        if node.type in ("whitespace", "comment"):
            if parts and parts[-1] != " ":
                parts.append(" ")
            continue
        parts.append(node.serialize())
    return "".join(parts).strip()


def _refuse_breakout(text):
    # An escaped "<" (\3c) comes back out of serialisation as "\<", which an HTML parser still reads as "<".
    if "<" in text or "\x00" in text:
        raise RefusedError(_reason("breakout"))


def _raw(node):
    return node.serialize()


def _error_removal(error, lines):
    """Names the source line an error is on: tinycss2's message alone ("EOF reached…") would not say where."""
    text = error.message
    if lines and 1 <= error.source_line <= len(lines):
        text = lines[error.source_line - 1] or text
    return Removal(snippet(text), _reason("breakout") if "<" in text else _reason("invalid"))


# --- the organisation's own media ---------------------------------------------------------------

class MediaUrls:
    """Answers "is this address one of the organisation's media files?", with one query per address."""

    def __init__(self, organization, lines=()):
        self.organization = organization
        self.lines = lines  # the source, for naming what an error is about
        self._known = {}

    @property
    def asked(self):
        return bool(self._known)

    def allows(self, url):
        if url not in self._known:
            self._known[url] = self._lookup(url)
        return self._known[url]

    def _lookup(self, url):
        if self.organization is None or "\\" in url or ".." in url:
            return False
        parts = urlsplit(url)
        if parts.query or parts.fragment:
            return False
        if parts.scheme or parts.netloc:
            # An absolute address is accepted only on the organisation's own host.
            if parts.scheme not in ("http", "https") or parts.username or parts.password:
                return False
            if parts.hostname != self.organization.hostname:
                return False
        path = parts.path
        if not path.startswith(settings.MEDIA_URL):
            return False
        return self._is_own_file(path)

    def _is_own_file(self, path):
        from orgs.scoping import scopes_disabled

        from .models import OrgDocument, OrgImage, OrgRendition

        name = unquote(path[len(settings.MEDIA_URL):])
        if default_storage.url(name) != path:
            return False  # only the exact address the storage gives the file
        organization = self.organization
        with scopes_disabled():
            return (
                OrgImage.objects.filter(organization=organization, file=name).exists()
                or OrgRendition.objects.filter(image__organization=organization, file=name).exists()
                or OrgDocument.objects.filter(organization=organization, file=name).exists()
            )


# --- values -------------------------------------------------------------------------------------

def _check_url(url, media):
    lowered = re.sub(r"[\s\x00-\x1f]", "", url).lower()
    if lowered.startswith(("javascript:", "data:", "vbscript:")):
        raise RefusedError(_reason("script-url"))
    if not media.allows(url):
        raise RefusedError(_reason("url"))


def _check_value(nodes, media, *, allow_url=True):
    for node in nodes:
        kind = node.type
        if kind in ("whitespace", "comment", "number", "percentage", "dimension", "hash", "string"):
            if kind == "string" and "<" in node.value:
                raise RefusedError(_reason("breakout"))
            continue
        if kind == "ident":
            name = node.lower_value
            if "expression" in name:
                raise RefusedError(_reason("expression"))
            if "javascript" in name:
                raise RefusedError(_reason("script-url"))
            continue
        if kind == "literal":
            if node.value not in (",", "/", "+", "-", "*", "%"):
                raise RefusedError(_reason("breakout") if node.value.startswith("<") else _reason("invalid"))
            continue
        if kind == "url":
            if not allow_url:
                raise RefusedError(_reason("url"))
            _check_url(node.value, media)
            continue
        if kind == "function":
            name = node.lower_name
            if "expression" in name:
                raise RefusedError(_reason("expression"))
            if name == "url" or name == "src":
                if not allow_url:
                    raise RefusedError(_reason("url"))
                strings = [arg for arg in node.arguments if arg.type not in ("whitespace", "comment")]
                if len(strings) != 1 or strings[0].type != "string":
                    raise RefusedError(_reason("url"))
                _check_url(strings[0].value, media)
                continue
            if name not in VALUE_FUNCTIONS:
                raise RefusedError(_reason("function"))
            _check_value(node.arguments, media, allow_url=allow_url)
            continue
        if kind == "() block":
            _check_value(node.content, media, allow_url=allow_url)
            continue
        if kind == "[] block" and all(n.type in ("ident", "whitespace") for n in node.content):
            continue  # grid line names
        raise RefusedError(_reason("invalid"))


def _check_declaration(declaration, media, *, allowed, font_face=False):
    name = declaration.lower_name
    if name in ("behavior", "-ms-behavior", "-moz-binding", "binding"):
        raise RefusedError(_reason("behavior"))
    custom = name.startswith("--")
    if not custom and name not in allowed:
        raise RefusedError(_reason("property"))
    value = [n for n in declaration.value if n.type != "comment"]
    if name in RESTRICTED_VALUES:
        words = [n for n in value if n.type != "whitespace"]
        if any(n.type == "function" and n.lower_name == "var" for n in words):
            raise RefusedError(_reason("var"))
        if len(words) != 1 or words[0].type != "ident":
            raise RefusedError(_reason("value"))
        word = words[0].lower_value
        if name == "position" and word == "fixed":
            raise RefusedError(_reason("fixed"))
        if word not in RESTRICTED_VALUES[name] and word not in GLOBAL_KEYWORDS:
            raise RefusedError(_reason("value"))
    if name == "unicode-range":
        text = _serialize(value)
        if not UNICODE_RANGE.match(text):
            raise RefusedError(_reason("value"))
        return f"unicode-range: {text};"
    # Transitions name properties, not files; only backgrounds, list markers and fonts load files.
    allow_url = name.startswith("background") or name == "list-style-image" or name == "list-style" or (
        font_face and name == "src")
    _check_value(value, media, allow_url=allow_url)
    text = _serialize(value)
    if not text:
        raise RefusedError(_reason("invalid"))
    _refuse_breakout(text)
    important = " !important" if declaration.important else ""
    # Names come back as written minus escapes; serialize_identifier re-escapes anything unusual.
    return f"{tinycss2.serialize_identifier(declaration.name)}: {text}{important};"


def _declarations(content, media, removed, *, allowed=PROPERTIES, font_face=False):
    kept = []
    for item in tinycss2.parse_blocks_contents(content, skip_comments=True, skip_whitespace=True):
        if item.type == "declaration":
            try:
                kept.append(_check_declaration(item, media, allowed=allowed, font_face=font_face))
            except RefusedError as refused:
                removed.append(Removal(snippet(f"{item.name}: {_serialize(item.value)}"), refused.reason))
        elif item.type == "error":
            removed.append(_error_removal(item, media.lines))
        else:
            removed.append(Removal(snippet(_raw(item)), _reason("nested")))
    return kept


# --- selectors and conditions -------------------------------------------------------------------

def _check_selector(nodes):
    if not [n for n in nodes if n.type not in ("whitespace", "comment")]:
        raise RefusedError(_reason("selector"))
    for node in nodes:
        kind = node.type
        if kind in ("whitespace", "comment", "ident", "hash", "number", "dimension", "percentage"):
            if kind == "ident" and "expression" in node.lower_value:
                raise RefusedError(_reason("expression"))
            continue
        if kind == "literal":
            if node.value not in (",", ".", ">", "+", "~", "*", ":", "|", "-"):
                raise RefusedError(_reason("breakout") if node.value.startswith("<") else _reason("selector"))
            continue
        if kind == "[] block":
            for part in node.content:
                if part.type == "string" and "<" in part.value:
                    raise RefusedError(_reason("breakout"))
                if part.type not in ("ident", "string", "whitespace") and not (
                    part.type == "literal" and part.value in ("=", "~=", "|=", "^=", "$=", "*=", "|")
                ):
                    raise RefusedError(_reason("selector"))
            continue
        if kind == "function" and node.lower_name in SELECTOR_FUNCTIONS:
            _check_selector(node.arguments)
            continue
        raise RefusedError(_reason("selector"))


def _check_condition(nodes, media, *, supports=False):
    """`@media` queries and `@supports` conditions: words, numbers and (feature: value) groups."""
    for node in nodes:
        kind = node.type
        if kind in ("whitespace", "comment", "number", "dimension", "percentage"):
            continue
        if kind == "ident":
            if not MEDIA_WORDS.match(node.lower_value) or "expression" in node.lower_value:
                raise RefusedError(_reason("invalid"))
            continue
        if kind == "literal" and node.value in (",", ":", "/", "<", ">", "=", "<=", ">="):
            # Range syntax (width >= 600px) uses < and >: fine in a condition, but never written out raw.
            if node.value.startswith("<"):
                raise RefusedError(_reason("breakout"))
            continue
        if kind == "() block":
            _check_condition(node.content, media, supports=supports)
            continue
        if supports and kind == "function" and node.lower_name in SUPPORTS_FUNCTIONS:
            _check_selector(node.arguments)
            continue
        raise RefusedError(_reason("invalid"))


# --- rules --------------------------------------------------------------------------------------

AT_RULE_REASONS = {"import": "import", "charset": "charset", "namespace": "namespace"}


def _indent(lines, depth):
    return [("  " * depth) + line for line in lines]


def _rules(rules, media, removed, depth):
    out = []
    for rule in rules:
        if rule.type in ("whitespace", "comment"):
            continue
        if rule.type == "error":
            removed.append(_error_removal(rule, media.lines))
            continue
        try:
            if rule.type == "qualified-rule":
                out.extend(_style_rule(rule, media, removed))
            elif rule.type == "at-rule":
                out.extend(_at_rule(rule, media, removed, depth))
            else:
                raise RefusedError(_reason("invalid"))
        except RefusedError as refused:
            removed.append(Removal(snippet(_raw(rule)), refused.reason))
    return out


def _style_rule(rule, media, removed):
    _check_selector(rule.prelude)
    declarations = _declarations(rule.content, media, removed)
    if not declarations:
        return []
    selector = _serialize(rule.prelude)
    _refuse_breakout(selector)
    return [f"{selector} {{", *_indent(declarations, 1), "}"]


def _at_rule(rule, media, removed, depth):
    keyword = rule.lower_at_keyword
    if keyword in AT_RULE_REASONS:
        raise RefusedError(_reason(AT_RULE_REASONS[keyword]))
    if keyword == "font-face":
        if rule.content is None or [n for n in rule.prelude if n.type not in ("whitespace", "comment")]:
            raise RefusedError(_reason("invalid"))
        font_removed = []
        declarations = _declarations(rule.content, media, font_removed, allowed=FONT_FACE_DESCRIPTORS,
                                     font_face=True)
        if font_removed:
            # A font without its files (or with a remote one) is worse than none: drop the whole rule.
            removed.extend(font_removed)
            raise RefusedError(_reason("font-face"))
        if not declarations:
            return []
        return ["@font-face {", *_indent(declarations, 1), "}"]
    if keyword in ("media", "supports"):
        if rule.content is None:
            raise RefusedError(_reason("invalid"))
        if depth >= MAX_NESTING:
            raise RefusedError(_reason("nested"))
        _check_condition(rule.prelude, media, supports=keyword == "supports")
        inner = tinycss2.parse_rule_list(rule.content, skip_comments=True, skip_whitespace=True)
        lines = _rules(inner, media, removed, depth + 1)
        if not lines:
            return []
        condition = _serialize(rule.prelude)
        _refuse_breakout(condition)
        return [f"@{keyword} {condition} {{", *_indent(lines, 1), "}"]
    raise RefusedError(_reason("at-rule"))


# --- the API ------------------------------------------------------------------------------------

def sanitize_css(css, *, organization=None):
    """Keep only the allowed parts of `css`; report the rest. The result is safe inside <style>."""
    return _sanitize(css or "", MediaUrls(organization, (css or "").splitlines()))


def _sanitize(css, media):
    if len(css.encode("utf-8", "surrogatepass")) > MAX_CSS_BYTES:
        return SanitizedCss("", [Removal(snippet(css), _reason("too-large"))])
    removed = []
    rules = tinycss2.parse_stylesheet(css, skip_comments=True, skip_whitespace=True)
    lines = _rules(rules, media, removed, depth=0)
    out = "\n".join(lines) + "\n" if lines else ""
    if "<" in out or "\x00" in out:  # belt and braces: nothing above writes a raw "<"
        return SanitizedCss("", [*removed, Removal(snippet(css), _reason("breakout"))])
    return SanitizedCss(out, removed)


# Stylesheets that name no address: their sanitised text depends on nothing but themselves, so pages
# rendering the same custom CSS again (every uncached view) skip the parse (1 ms per KB).
_WITHOUT_ADDRESSES = {}
_REMEMBERED = 64


def sanitized_css_text(css, *, organization=None):
    """`sanitize_css(...).css`, remembered for stylesheets without url()s (what the template filter needs)."""
    css = css or ""
    known = _WITHOUT_ADDRESSES.get(css)
    if known is not None:
        return known
    media = MediaUrls(organization, css.splitlines())
    text = _sanitize(css, media).css
    if not media.asked:
        if len(_WITHOUT_ADDRESSES) >= _REMEMBERED:
            _WITHOUT_ADDRESSES.clear()
        _WITHOUT_ADDRESSES[css] = text
    return text


def removal_message(removal):
    return f"`{removal.text}`: {removal.reason}"


def validate_custom_css(organization):
    """A field validator: refuses CSS that would lose anything, naming each part and why."""

    def validator(value):
        result = sanitize_css(value, organization=organization)
        if result.removed:
            raise ValidationError(
                [ValidationError(removal_message(removal), code="unsafe_css") for removal in result.removed]
            )

    return validator
