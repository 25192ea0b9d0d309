"""The organisation's logo for documents we render ourselves (PDF answers, QR letters)."""

import base64
import logging

logger = logging.getLogger(__name__)

CONTENT_TYPES = {"jpg": "image/jpeg", "jpeg": "image/jpeg", "gif": "image/gif", "webp": "image/webp",
                 "avif": "image/avif", "png": "image/png"}


def data_uri(content_type, data):
    return f"data:{content_type};base64,{base64.b64encode(data).decode('ascii')}"


def logo_data_uri(organization):
    """The logo as a data: URI (WeasyPrint must fetch nothing over the network), or "" when there is none.

    A missing or unreadable file must not stop the document, so it is logged and left out."""
    if not organization.logo_id:
        return ""
    try:
        rendition = organization.logo.get_rendition("max-360x100")
        with rendition.file.open("rb") as handle:
            data = handle.read()
    except Exception:  # noqa: BLE001 - any storage or image error: the document goes out without the logo
        logger.warning("The logo of organisation %s could not be read", organization.pk)
        return ""
    extension = rendition.file.name.rsplit(".", 1)[-1].lower()
    return data_uri(CONTENT_TYPES.get(extension, "image/png"), data)
