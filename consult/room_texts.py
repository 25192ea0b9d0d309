"""What the waiting and consultation rooms show besides the people: the organisation's texts (F-TEXT-3),
its explainer video and its "more information" page.

Texts are plain text with the same `*|codes|*` as the emails, filled with the same values (never
evaluated); templates show them with `|linebreaksbr`, auto-escaped.
"""

import re
from typing import NamedTuple
from urllib.parse import parse_qs, urlsplit

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from .emails import placeholder_values
from .placeholders import fill

LANGUAGES = tuple(code for code, _name in settings.LANGUAGES)


class RoomTexts(NamedTuple):
    waiting_room: str
    after_consult: str


def _default_texts():
    """Used when the organisation wrote nothing in any language (translated by gettext)."""
    return RoomTexts(
        waiting_room=_("Welcome. *|appointment_welcome_from|* will call you in shortly."),
        after_consult=_("The consultation with *|appointment_welcome_from|* has ended. Thank you, you can close "
                        "this page."),
    )


def _own_text(organization, field, language):
    """The organisation's text in `language`, else in its default language; "" when it wrote neither."""
    for candidate in (language, organization.default_language):
        text = getattr(organization, f"{field}_{candidate}", "") if candidate in LANGUAGES else ""
        if text.strip():
            return text
    return ""


def room_texts(appointment, participant, language):
    """The waiting-room text and the after-consult message for `participant`, placeholders filled.

    `language` is one of nl/en/de/es (anything else: the organisation's default language). The
    organisation's own text in that language is used, else its text in its default language, else
    the standard text in `language`.
    """
    organization = appointment.organization
    language = (language or "")[:2]
    if language not in LANGUAGES:
        language = organization.default_language
    with translation.override(language):
        defaults = _default_texts()
    values = placeholder_values(appointment, participant, language)
    return RoomTexts(*(
        fill(_own_text(organization, field, language) or default, values).strip()
        for field, default in zip(("waiting_room_text", "after_consult_text"), defaults, strict=True)
    ))


# --- the explainer video and the "more information" page ----------------------------------------

class Video(NamedTuple):
    kind: str  # "file" (<video>), "embed" (<iframe>) or "link"
    src: str


VIDEO_FILE = re.compile(r"\.(mp4|webm)$", re.IGNORECASE)
YOUTUBE_ID = re.compile(r"^[A-Za-z0-9_-]{11}$")
VIMEO_ID = re.compile(r"^[0-9]{1,12}$")
YOUTUBE_HOSTS = {"youtube.com", "www.youtube.com", "m.youtube.com", "youtube-nocookie.com",
                 "www.youtube-nocookie.com"}
VIMEO_HOSTS = {"vimeo.com", "www.vimeo.com", "player.vimeo.com"}


def explainer_video(url):
    """How to show the organisation's explainer video: a file plays in <video>, YouTube and Vimeo in their
    privacy-friendly players, anything else is a plain link. None without a (usable) URL."""
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    host, segments = parts.hostname.lower(), [s for s in parts.path.split("/") if s]
    if VIDEO_FILE.search(parts.path):
        return Video("file", url)
    video_id = None
    if host in YOUTUBE_HOSTS:
        if parts.path == "/watch":
            video_id = (parse_qs(parts.query).get("v") or [""])[0]
        elif len(segments) == 2 and segments[0] in ("embed", "shorts", "live", "v"):
            video_id = segments[1]
    elif host == "youtu.be" and len(segments) == 1:
        video_id = segments[0]
    if video_id and YOUTUBE_ID.match(video_id):
        return Video("embed", f"https://www.youtube-nocookie.com/embed/{video_id}")
    vimeo_id = ""
    if host == "player.vimeo.com" and len(segments) == 2 and segments[0] == "video":
        vimeo_id = segments[1]
    elif host in VIMEO_HOSTS and host != "player.vimeo.com" and len(segments) == 1:
        vimeo_id = segments[0]
    if VIMEO_ID.match(vimeo_id):
        return Video("embed", f"https://player.vimeo.com/video/{vimeo_id}?dnt=1")
    return Video("link", url)


def origin_of(url):
    """scheme://host[:port] of an http(s) URL, for the page's Content-Security-Policy; "" otherwise."""
    parts = urlsplit(url or "")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return ""
    return f"{parts.scheme}://{parts.netloc.rsplit('@', 1)[-1].lower()}"
