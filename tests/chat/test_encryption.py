"""Message text at rest (chat/sealing.py): the database holds no plaintext, a ciphertext moved to another
channel does not open, and a key rotation (QUESTIONNAIRE_KEYS) still opens older messages."""

import pytest
from django.db import connection

from chat import selectors, services
from chat.models import Message
from chat.sealing import open_text
from formbuilder import crypto
from tests.chat.core_helpers import book, channel_of, make_client, member

TEXT = "Mijn bloeddruk is 150/95 sinds gisteren"


@pytest.fixture
def two_channels(alpha):
    rosa, piet = make_client(alpha, "Rosa"), make_client(alpha, "Piet")
    book(alpha, rosa)
    book(alpha, piet, minutes=120)
    return rosa, channel_of(alpha, rosa), channel_of(alpha, piet)


def raw_rows(message_id):
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM chat_message WHERE id = %s", [message_id])
        return cursor.fetchall()


def test_the_database_holds_no_plaintext(alpha, two_channels):
    rosa, channel, _other = two_channels
    message = services.message_post(channel=channel, text=TEXT, client=rosa)
    [row] = raw_rows(message.pk)
    for value in row:
        as_bytes = bytes(value) if isinstance(value, (bytes, memoryview)) else str(value).encode()
        assert b"bloeddruk" not in as_bytes and b"150/95" not in as_bytes
    sealed = bytes(Message.objects.with_scopes_disabled().get(pk=message.pk).sealed_text)
    assert sealed.startswith(crypto.PREFIX)
    assert open_text(Message.objects.with_scopes_disabled().get(pk=message.pk)) == TEXT


def test_a_ciphertext_copied_to_another_channel_does_not_open(alpha, beta, two_channels):
    rosa, channel, other = two_channels
    message = services.message_post(channel=channel, text=TEXT, client=rosa)
    stolen = Message.objects.with_scopes_disabled().get(pk=message.pk)
    moved = Message.objects.with_scopes_disabled().create(
        organization=alpha, channel=other, author="client", sender_name="x", sealed_text=stolen.sealed_text)
    with pytest.raises(crypto.SealError):
        open_text(moved)
    stolen.organization_id = beta.pk  # another organisation, same channel id: no more luck
    with pytest.raises(crypto.SealError):
        open_text(stolen)


def test_older_messages_open_after_a_key_rotation(alpha, two_channels, settings):
    rosa, channel, _other = two_channels
    old = services.message_post(channel=channel, text="sealed under the old key", client=rosa)
    old_key_id = crypto.newest_key_id()
    settings.QUESTIONNAIRE_KEYS = f"{crypto.new_key_text('rotated')},{settings.QUESTIONNAIRE_KEYS}"
    new = services.message_post(channel=channel, text="sealed under the new key", member=member(alpha, "gp"))
    stored = {m.pk: m for m in Message.objects.with_scopes_disabled().filter(channel=channel)}
    assert crypto.key_id_of(stored[old.pk].sealed_text) == old_key_id
    assert crypto.key_id_of(stored[new.pk].sealed_text) == "rotated"
    assert [m["text"] for m in selectors.messages_for(channel, viewer=member(alpha, "gp"))] == [
        "sealed under the old key", "sealed under the new key"]


def test_resealing_moves_every_message_to_the_newest_key(alpha, two_channels, settings):
    rosa, channel, other = two_channels
    services.message_post(channel=channel, text="one", client=rosa)
    services.message_post(channel=other, text="two", member=member(alpha, "gp"))
    old_key_id = crypto.newest_key_id()
    settings.QUESTIONNAIRE_KEYS = f"{crypto.new_key_text('rotated')},{settings.QUESTIONNAIRE_KEYS}"
    services.message_post(channel=channel, text="three", client=rosa)
    assert services.messages_by_key() == {old_key_id: 2, "rotated": 1}
    assert services.messages_reseal(batch=1) == 2
    assert services.messages_by_key() == {"rotated": 3}
    assert services.messages_reseal() == 0
    settings.QUESTIONNAIRE_KEYS = settings.QUESTIONNAIRE_KEYS.split(",")[0]  # the old key dropped
    texts = [m["text"] for c in (channel, other) for m in selectors.messages_for(c, viewer=None)]
    assert texts == ["one", "three", "two"]
