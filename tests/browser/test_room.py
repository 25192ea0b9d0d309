"""The consultation room, end to end in Chromium with fake camera and microphone (F-WAIT-2/3, F-ROOM).

A patient opens their link, the practitioner sees them appear live and calls them in, both land in the
room and receive each other's video (frames advancing), chat goes both ways, a screen share and a
shared file reach the other side, and "end consultation" deletes the file and shows the patient the
after-consult message.
"""

from django.core.files.storage import storages
from playwright.sync_api import expect

from consult.models import Consult, ConsultStatus, SharedFile
from orgs.scoping import scopes_disabled

from .room_helpers import (
    appointment_now,
    close_and_settle,
    patient_waits,
    practitioner_in_waiting_room,
    remote_frames,
    wait_until,
)


def test_practitioner_calls_the_patient_in_and_they_hold_a_consult(browser, asgi_server, url_for, alpha):
    alpha.after_consult_text_en = "Call us at 020 123 4567 for your follow-up, *|client_name|*."
    alpha.save()
    appointment = appointment_now(alpha)
    staff = practitioner_in_waiting_room(browser, url_for, alpha)
    expect(staff.get_by_text("Nobody is waiting")).to_be_visible()
    patient = patient_waits(browser, url_for, alpha, appointment)

    # The list updates by itself; calling in takes both into the room.
    expect(staff.get_by_text("Rosa Verhoeven")).to_be_visible()
    staff.get_by_role("button", name="Call in").click()
    expect(staff).to_have_url(url_for("alpha", f"/portal/room/{appointment.pk}/"))
    expect(patient).to_have_url(url_for("alpha", "/c/room/"))
    expect(staff.get_by_role("heading", name="Consult with Rosa Verhoeven")).to_be_visible()

    staff_sees = remote_frames(staff)
    patient_sees = remote_frames(patient)
    assert staff_sees[0]["w"] > 0 and patient_sees[0]["w"] > 0

    # Chat both ways; links are clickable and stay text.
    staff.get_by_role("button", name="Chat").click()
    staff.get_by_label("Message").fill("Your results: https://example.org/results <b>ok</b>")
    staff.get_by_role("button", name="Send").click()
    expect(patient.locator("[data-unread]")).to_have_text("1")
    patient.get_by_role("button", name="Chat").click()
    message = patient.locator("[data-chat-log] li").last
    expect(message).to_contain_text("Your results:")
    expect(message.get_by_role("link", name="https://example.org/results")).to_have_attribute(
        "href", "https://example.org/results")
    expect(message.locator("b")).to_have_count(0)
    patient.get_by_label("Message").fill("Thank you")
    patient.keyboard.press("Enter")
    expect(staff.locator("[data-chat-log] li").last).to_contain_text("Thank you")

    # The client has only the client's tools.
    expect(patient.get_by_role("button", name="End consultation")).to_have_count(0)
    expect(patient.get_by_role("button", name="Add participant")).to_have_count(0)

    # Screen share from the patient's side reaches the practitioner.
    patient.get_by_role("button", name="Share screen").click()
    expect(patient.get_by_role("button", name="Stop sharing")).to_be_visible()
    expect(staff.locator(".tile.screen")).to_have_count(1)
    expect(staff.locator(".tile:not(.tile-local) [data-flags]")).to_contain_text("is sharing their screen")
    remote_frames(staff)  # the shared screen plays on the other side
    patient.get_by_role("button", name="Stop sharing").click()
    expect(staff.locator(".tile.screen")).to_have_count(0)

    # A file shared by the practitioner downloads on the patient's side.
    staff.locator("[data-file-input]").set_input_files(
        files=[{"name": "advice.txt", "mimeType": "text/plain", "buffer": b"Rest and drink water."}])
    link = patient.get_by_role("link", name="advice.txt")
    expect(link).to_be_visible()
    with patient.expect_download() as download:
        link.click()
    assert open(download.value.path(), "rb").read() == b"Rest and drink water."
    shared = SharedFile.objects.with_scopes_disabled().get()
    storage = storages["private"]
    assert storage.exists(shared.file.name)

    # End: the file is gone from storage, the patient sees the after-consult message.
    staff.get_by_role("button", name="End consultation").click()
    staff.get_by_role("dialog").get_by_role("button", name="End consultation").click()
    expect(staff).to_have_url(url_for("alpha", "/portal/waiting-room/"))
    expect(patient.get_by_role("heading", name="The consult has ended")).to_be_visible()
    expect(patient.get_by_text("Call us at 020 123 4567 for your follow-up, Rosa Verhoeven.")).to_be_visible()
    wait_until(lambda: not storage.exists(shared.file.name), message="the shared file is still stored")
    assert not SharedFile.objects.with_scopes_disabled().exists()

    consult = Consult.objects.with_scopes_disabled().get()
    assert consult.status == ConsultStatus.ENDED and consult.ended_at > consult.started_at
    with scopes_disabled():
        assert sorted(consult.presences.values_list("role", flat=True)) == ["client", "staff"]
    close_and_settle(asgi_server, staff, patient)
