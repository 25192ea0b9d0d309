"""Three people in one consult (F-APPT-4, F-WAIT-3 force start): the practitioner starts before anyone
arrives, the extra participant waits until the client is in, then all three see and hear each other."""

from playwright.sync_api import expect

from consult.models import ConsultPresence
from orgs.scoping import scopes_disabled

from .conftest import login
from .room_helpers import appointment_now, close_and_settle, link_path, new_page, remote_frames


def test_force_start_then_client_then_extra_participant_in_a_mesh_of_three(browser, asgi_server, url_for, alpha):
    alpha.force_start = True
    alpha.save()
    appointment = appointment_now(alpha, guests=1)

    staff = new_page(browser)
    login(staff, url_for("alpha", "/accounts/login/"), "gp@alpha.test")
    staff.goto(url_for("alpha", f"/portal/appointments/{appointment.pk}/"))
    staff.get_by_role("button", name="Start the consult").click()
    expect(staff).to_have_url(url_for("alpha", f"/portal/room/{appointment.pk}/"))
    expect(staff.get_by_text("Waiting for the others to join…")).to_be_visible()

    # The extra participant arrives first: they wait, because the client is not there yet.
    guest = new_page(browser)
    guest.goto(url_for("alpha", link_path(appointment, role="guest")))
    expect(guest.locator("[data-waiting-room][data-socket=open]")).to_be_attached()
    expect(guest).to_have_url(url_for("alpha", "/c/"))

    # The client's link goes straight into the started consult; then the extra participant follows.
    client = new_page(browser)
    client.goto(url_for("alpha", link_path(appointment)))
    expect(client).to_have_url(url_for("alpha", "/c/room/"))
    expect(guest).to_have_url(url_for("alpha", "/c/room/"))

    for page in (staff, client, guest):
        expect(page.locator(".room-stage")).to_have_attribute("data-count", "3")
        remote_frames(page, count=2)
    with scopes_disabled():
        assert sorted(ConsultPresence.objects.filter(connected=True).values_list("role", flat=True)) == [
            "client", "guest", "staff"]

    # Click a tile to enlarge it; the others make room.
    tile = staff.locator(".tile:not(.tile-local)").first
    tile.click()
    expect(tile).to_have_attribute("aria-pressed", "true")
    expect(staff.locator(".room-stage.has-enlarged")).to_have_count(1)
    tile.press("Enter")
    expect(tile).to_have_attribute("aria-pressed", "false")

    # The client leaves for good: the others drop their tile at once.
    client.context.close()
    expect(staff.locator(".tile:not(.tile-local)")).to_have_count(1)
    expect(guest.locator(".tile:not(.tile-local)")).to_have_count(1)
    close_and_settle(asgi_server, staff, guest)
