"""The room's tools (F-ROOM-5,6,7,8,10, F-ORG-6 switches): device settings shown first, mute states seen
by the other side, a camera that fails sends you to the camera check and back, live captions through
the browser's speech recognition (a stand-in recogniser here: headless Chromium has no speech
service), adding a participant during the consult, the walk-in switch, and background blur."""

from django.core import mail
from playwright.sync_api import expect

from orgs.models import Membership
from orgs.scoping import scopes_disabled

from .room_helpers import appointment_now, close_and_settle, patient_waits, practitioner_in_waiting_room, remote_frames

# A speech recogniser that "hears" one sentence as soon as it starts, like the browser's would.
FAKE_SPEECH = """
window.SpeechRecognition = class extends EventTarget {
  start() {
    setTimeout(() => {
      const event = new Event("result");
      event.resultIndex = 0;
      const alternative = { transcript: "how are you feeling today" };
      const result = Object.assign([alternative], { isFinal: true });
      event.results = [result];
      this.dispatchEvent(event);
    }, 200);
  }
  stop() {}
};
"""


def _in_room(browser, url_for, org):
    appointment = appointment_now(org)
    staff = practitioner_in_waiting_room(browser, url_for, org)
    patient = patient_waits(browser, url_for, org, appointment)
    staff.get_by_role("button", name="Call in").click()
    expect(patient).to_have_url(url_for(org.subdomain, "/c/room/"))
    return appointment, staff, patient


def test_device_settings_first_mute_camera_check_and_captions(browser, asgi_server, url_for, alpha):
    alpha.device_settings_first = True
    alpha.save()
    appointment = appointment_now(alpha)
    staff = practitioner_in_waiting_room(browser, url_for, alpha)
    staff.context.add_init_script(FAKE_SPEECH)
    patient = patient_waits(browser, url_for, alpha, appointment)
    # A browser without speech recognition (Firefox, for one).
    patient.context.add_init_script("delete window.SpeechRecognition; delete window.webkitSpeechRecognition;")
    staff.get_by_role("button", name="Call in").click()

    # Settings first: camera, microphone (and speaker where the browser can choose one); joining waits.
    settings = patient.get_by_role("dialog", name="Camera, microphone and speaker")
    expect(settings).to_be_visible()
    expect(settings.get_by_label("Camera", exact=True)).not_to_have_value("")
    expect(settings.get_by_label("Microphone", exact=True)).not_to_have_value("")
    settings.get_by_label("Video quality").select_option("360")
    expect(staff.locator(".tile:not(.tile-local)")).to_have_count(0)
    settings.get_by_role("button", name="Done").click()
    staff_settings = staff.get_by_role("dialog", name="Camera, microphone and speaker")
    staff_settings.get_by_role("button", name="Done").click()
    remote_frames(staff)
    remote_frames(patient)

    # Muting shows on the other side.
    patient.get_by_role("button", name="Mute").click()
    expect(patient.get_by_role("button", name="Unmute")).to_have_attribute("aria-pressed", "true")
    expect(staff.locator(".tile:not(.tile-local) [data-flags]")).to_have_text("(microphone off)")
    patient.get_by_role("button", name="Camera off").click()
    expect(staff.locator(".tile:not(.tile-local) [data-flags]")).to_have_text("(microphone off, camera off)")
    patient.get_by_role("button", name="Unmute").click()
    patient.get_by_role("button", name="Camera on").click()
    expect(staff.locator(".tile:not(.tile-local) [data-flags]")).to_have_text("")

    # Captions: what the practitioner says appears under the video on the patient's side.
    staff.get_by_role("button", name="Captions").click()
    expect(patient.locator("[data-captions]")).to_contain_text("Gp Alpha: how are you feeling today")
    # The patient's browser has no recogniser: no captions button to press.
    expect(patient.get_by_role("button", name="Captions")).to_be_hidden()

    # The camera fails: the patient is sent to the camera check, and comes back to the same consult.
    patient.evaluate("() => window.__room.camera.dispatchEvent(new Event('ended'))")
    alert = patient.get_by_role("alertdialog", name="Your camera stopped working")
    expect(alert).to_be_visible()
    alert.get_by_role("link", name="Check the camera").click()
    expect(patient.get_by_role("heading", name="Check your camera, microphone and connection")).to_be_visible()
    patient.get_by_role("link", name="Back to the consult").click()
    expect(patient).to_have_url(url_for("alpha", "/c/room/"))
    patient.get_by_role("dialog", name="Camera, microphone and speaker").get_by_role("button", name="Done").click()
    remote_frames(staff)
    remote_frames(patient)
    close_and_settle(asgi_server, staff, patient)


def test_staff_add_a_participant_switch_walk_ins_and_blur_the_background(browser, asgi_server, url_for, alpha):
    appointment, staff, patient = _in_room(browser, url_for, alpha)
    remote_frames(staff)
    mail.outbox.clear()

    staff.get_by_role("button", name="Add participant").click()
    dialog = staff.get_by_role("dialog", name="Add a participant")
    dialog.get_by_role("button", name="Send the link").click()
    expect(dialog.get_by_role("alert")).to_contain_text("This field is required.")
    dialog.get_by_label("First name").fill("Sam")
    dialog.get_by_label("Last name").fill("de Vries")
    dialog.get_by_label("Email").fill("sam@example.com")
    dialog.get_by_role("button", name="Send the link").click()
    expect(dialog.get_by_role("status")).to_contain_text("The link has been emailed to Sam de Vries.")
    link = dialog.get_by_label("Their personal link").input_value()
    assert [m.to for m in mail.outbox] == [["sam@example.com"]] and link in mail.outbox[0].body
    dialog.get_by_role("button", name="Close").click()

    # The walk-in switch works without leaving the call.
    staff.get_by_role("button", name="Walk-ins: closed").click()
    expect(staff.get_by_role("button", name="Walk-ins: open")).to_have_attribute("aria-pressed", "true")
    with scopes_disabled():
        assert Membership.objects.get(pk=alpha.people["gp"].pk).walk_in_open is True
    remote_frames(patient)  # still in the call

    # Background blur, from the locally served MediaPipe model; the other side keeps getting video.
    patient.get_by_role("button", name="Settings").click()
    settings = patient.get_by_role("dialog", name="Camera, microphone and speaker")
    settings.get_by_label("Background").select_option("blur")
    expect(settings.locator("[data-background-status]")).not_to_have_text("Preparing the blur…", timeout=30_000)
    expect(settings.locator("[data-background-status]")).to_have_text("")
    # What the others receive is the blurred picture (the effect's canvas), not the camera.
    assert patient.evaluate("""() => { const room = window.__room;
        return room.effect !== null && [...room.peers.values()][0].videoSender.track === room.effect.track; }""")
    settings.get_by_role("button", name="Done").click()
    remote_frames(staff)
    close_and_settle(asgi_server, staff, patient)
