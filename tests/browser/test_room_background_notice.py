"""F-ORG-6 "warn when a replaced background is still on": the room remembers a blurred background on the
device, and when it comes back by itself at the start of a consult the person sees a notice (role=status)
with a button that turns it off. With the organisation's switch off the blur still comes back, silently."""

from playwright.sync_api import expect

from orgs.models import Organization

from .room_helpers import close_and_settle, remote_frames
from .test_room_tools import _in_room

BLUR_LOADS_MS = 30_000  # the segmentation model and its WebAssembly load on first use


def _blur_on(page):
    page.get_by_role("button", name="Settings").click()
    settings = page.get_by_role("dialog", name="Camera, microphone and speaker")
    settings.get_by_label("Background").select_option("blur")
    expect(settings.locator("[data-background-status]")).not_to_have_text("Preparing the blur…", timeout=BLUR_LOADS_MS)
    expect(settings.locator("[data-background-status]")).to_have_text("")
    settings.get_by_role("button", name="Done").click()


def _effect_on(page):
    page.wait_for_function("() => window.__room && window.__room.effect !== null", timeout=BLUR_LOADS_MS)


def test_a_remembered_blur_comes_back_with_a_notice_unless_the_switch_is_off(browser, asgi_server, url_for, alpha):
    _appointment, staff, patient = _in_room(browser, url_for, alpha)
    remote_frames(staff)

    # The practitioner blurs the background; the next start of the room (here: a reload) blurs it again.
    _blur_on(staff)
    staff.reload()
    _effect_on(staff)
    notice = staff.locator("[data-background-notice]")
    expect(notice).to_have_attribute("role", "status")
    expect(notice).to_contain_text("Your background is blurred.")
    expect(notice.get_by_role("button", name="Turn the blur off")).to_be_visible()
    expect(staff.locator("[data-background]")).to_have_value("blur")
    remote_frames(patient)  # the call came back, blurred

    # "Turn the blur off": the camera's own picture goes out again, and the choice is remembered.
    notice.get_by_role("button", name="Turn the blur off").click()
    expect(notice).to_be_empty()
    assert staff.evaluate("""() => { const room = window.__room;
        return room.effect === null && [...room.peers.values()][0].videoSender.track === room.camera; }""")
    assert staff.evaluate("() => localStorage.getItem('openconsult.room.background')") == "none"
    staff.reload()
    remote_frames(staff)
    expect(notice).to_be_empty()
    assert staff.evaluate("() => window.__room.effect") is None

    # The client: blur on, and "keep it" closes the notice and keeps the blur.
    _blur_on(patient)
    patient.reload()
    _effect_on(patient)
    patient_notice = patient.locator("[data-background-notice]")
    expect(patient_notice).to_contain_text("Your background is blurred.")
    patient_notice.get_by_role("button", name="Keep it blurred").click()
    expect(patient_notice).to_be_empty()
    assert patient.evaluate("() => window.__room.effect !== null")

    # The organisation's switch off: the blur still comes back, without a notice.
    Organization.objects.filter(pk=alpha.pk).update(warn_background_active=False)
    patient.reload()
    _effect_on(patient)
    expect(patient.locator("[data-background]")).to_have_value("blur")
    remote_frames(staff)
    expect(patient_notice).to_be_empty()
    close_and_settle(asgi_server, staff, patient)
