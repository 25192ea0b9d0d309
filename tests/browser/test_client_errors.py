"""Client-side error reports in Chromium (issue #10): a JavaScript error in the waiting room and in the room,
and a refused camera in the waiting room's device check, end up as the organisation's ClientError rows."""

from playwright.sync_api import expect

from orgs.scoping import scopes_disabled
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, DEFAULT_TIMEOUT_MS
from usage.models import ClientError

from .room_helpers import (
    appointment_now,
    close_and_settle,
    patient_waits,
    practitioner_in_waiting_room,
    wait_until,
)

THROW = "() => { setTimeout(() => { throw new Error('boom ' + location.pathname); }); }"


def reports(**filters):
    with scopes_disabled():
        return list(ClientError.objects.filter(**filters).order_by("pk"))


def test_javascript_errors_in_the_waiting_room_and_the_room_are_reported(browser, asgi_server, url_for, alpha, beta):
    appointment = appointment_now(alpha)
    staff = practitioner_in_waiting_room(browser, url_for, alpha)
    patient = patient_waits(browser, url_for, alpha, appointment)
    assert reports() == []  # a page that works reports nothing

    patient.evaluate(THROW)
    wait_until(lambda: len(reports()) == 1, message="the waiting room's error was not reported")
    [row] = reports()
    assert (row.organization_id, row.kind, row.source, row.role) == (alpha.pk, "js_error", "waiting_room", "client")
    assert row.appointment_id == appointment.pk
    assert "boom /c/" in row.message and "error-report.js" not in row.detail
    assert "HeadlessChrome" in row.user_agent or "Chrome" in row.user_agent
    # The same error again on the same page: sent once.
    patient.evaluate(THROW)
    patient.wait_for_timeout(500)
    assert len(reports()) == 1

    # Into the room; an error there is the room's, and the practitioner's comes with the appointment.
    expect(staff.get_by_text("Rosa Verhoeven")).to_be_visible()
    staff.get_by_role("button", name="Call in").click()
    expect(staff).to_have_url(url_for("alpha", f"/portal/room/{appointment.pk}/"))
    expect(patient).to_have_url(url_for("alpha", "/c/room/"))
    staff.evaluate(THROW)
    wait_until(lambda: reports(role="staff"), message="the staff room's error was not reported")
    [row] = reports(role="staff")
    assert (row.kind, row.source, row.appointment_id) == ("js_error", "room", appointment.pk)
    assert f"boom /portal/room/{appointment.pk}/" in row.message
    assert reports(organization=beta) == []

    # The room's WebRTC hooks: a connection that says "failed" (ICE and connection state: one report), and one
    # "disconnected" for over 10 s. The browser is made to say so; the real connection stays up.
    staff.wait_for_function("() => [...window.__room.peers.values()].some((p) => p.pc.connectionState === 'connected')",
                            timeout=30_000)
    staff.evaluate("""() => {
        const pc = [...window.__room.peers.values()][0].pc;
        Object.defineProperty(pc, "iceConnectionState", { get: () => "failed", configurable: true });
        pc.dispatchEvent(new Event("iceconnectionstatechange"));
        Object.defineProperty(pc, "connectionState", { get: () => "failed", configurable: true });
        pc.dispatchEvent(new Event("connectionstatechange"));
        Object.defineProperty(pc, "connectionState", { get: () => "disconnected", configurable: true });
        pc.dispatchEvent(new Event("connectionstatechange"));
    }""")
    wait_until(lambda: reports(kind="ice_failed"), message="the failed connection was not reported")
    wait_until(lambda: reports(kind="connection_dropped"), timeout=15, message="the dropped connection was not noted")
    webrtc = reports(kind__in=["ice_failed", "connection_dropped"])
    assert [(r.kind, r.role, r.source, r.appointment_id) for r in webrtc] == [
        ("ice_failed", "staff", "room", appointment.pk), ("connection_dropped", "staff", "room", appointment.pk)]
    assert "with client" in reports(kind="ice_failed")[0].detail

    # A page sends at most 10 reports, each one once, whatever it is asked to send.
    sent = patient.evaluate("""() => [...Array(12).keys(), 0].map(
        (n) => window.OpenConsultErrors.report('js_error', `error ${n}`, ''))""")
    assert sent == [True] * 10 + [False] * 3
    wait_until(lambda: len(reports(role="client", source="room")) == 10, message="the room's reports did not arrive")
    close_and_settle(asgi_server, staff, patient)


def test_a_refused_camera_in_the_device_check_is_reported(playwright, asgi_server, url_for, alpha):
    appointment = appointment_now(alpha)
    # Without the flag that accepts every camera prompt, headless Chromium refuses getUserMedia.
    refusing = playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True,
        args=[arg for arg in CHROMIUM_ARGS if arg != "--use-fake-ui-for-media-stream"])
    try:
        page = patient_waits(refusing, url_for, alpha, appointment)
        toggle = page.get_by_role("button", name="Check my camera and microphone")
        toggle.click()
        expect(page.locator('[data-device="camera"]')).to_have_attribute("data-result", "denied")
        wait_until(lambda: reports(kind="permission_denied"), timeout=DEFAULT_TIMEOUT_MS / 1000,
                   message="the refused camera was not reported")
        [row] = reports()  # camera and microphone refused together: one report
        assert (row.source, row.role, row.appointment_id) == ("waiting_room", "client", appointment.pk)
        assert row.message == "NotAllowedError" and "camera and microphone" in row.detail
        page.context.close()
    finally:
        refusing.close()
        asgi_server.wait_idle()
