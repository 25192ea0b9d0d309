"""Message text at rest: sealed with the questionnaire answers' keys (formbuilder/crypto.py), bound to the
organisation and channel, so a ciphertext copied into another channel or organisation does not open."""

from formbuilder import crypto


def _context(message):
    return b"chat:%d:%d" % (message.organization_id, message.channel_id)


def seal_text(message, text):
    message.sealed_text = crypto.seal(text.encode(), context=_context(message))


def open_text(message):
    return crypto.unseal(message.sealed_text, context=_context(message)).decode()
