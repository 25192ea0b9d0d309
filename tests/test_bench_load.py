"""The load bench's own parts (bench/load.py): the mix, its HTTP client's parser, the forms and frames it reads
from pages, the server-log summary. The load run itself is no test."""

import asyncio
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

import load  # noqa: E402


def test_mix_parses_and_rejects_unknown_parts():
    assert load.parse_mix("visitor=3,booker=1") == {"visitor": 3.0, "patient": 0.0, "practitioner": 0.0,
                                                    "booker": 1.0}
    for bad in ("tourist=1", "visitor=-1", "visitor=0"):
        with pytest.raises(Exception):  # noqa: B017 (argparse's ArgumentTypeError)
            load.parse_mix(bad)


def test_parts_follow_the_shares_and_interleave():
    order = load.assign_parts(200, load.parse_mix(load.DEFAULT_MIX))
    assert len(order) == 200
    assert {p: order.count(p) for p in load.PARTS} == {"visitor": 140, "patient": 40, "practitioner": 10,
                                                      "booker": 10}
    # The first tenth of the ramp already brings in every part.
    assert set(order[:20]) == set(load.PARTS)
    # Rounding never loses a user.
    assert len(load.assign_parts(7, load.parse_mix("visitor=1,patient=1,booker=1"))) == 7


def parse(raw, method="GET"):
    async def run():
        reader = asyncio.StreamReader()
        reader.feed_data(raw)
        reader.feed_eof()
        return await load.read_response(reader, method)

    return asyncio.run(run())


def test_response_with_length_and_cookies():
    response = parse(b"HTTP/1.1 302 Found\r\nLocation: /c/\r\nSet-Cookie: sessionid=abc; HttpOnly\r\n"
                     b"Set-Cookie: csrftoken=x\r\nContent-Length: 5\r\n\r\nhello")
    assert response.status == 302
    assert response.header("location") == "/c/"
    assert response.headers["set-cookie"] == ["sessionid=abc; HttpOnly", "csrftoken=x"]
    assert response.body == b"hello"


def test_chunked_response():
    response = parse(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nWiki\r\n5;x=y\r\npedia\r\n0\r\n\r\n")
    assert response.body == b"Wikipedia"


def test_no_body_for_head_and_304_and_a_closed_connection_is_an_error():
    assert parse(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", "HEAD").body == b""
    assert parse(b"HTTP/1.1 304 Not Modified\r\n\r\n").body == b""
    with pytest.raises(ConnectionResetError):
        parse(b"")


def test_browser_keeps_cookies_and_reconnects_when_a_kept_connection_was_closed():
    async def run():
        answers = []

        async def handle(reader, writer):
            request = await reader.readuntil(b"\r\n\r\n")
            answers.append(request)
            writer.write(b"HTTP/1.1 200 OK\r\nSet-Cookie: sessionid=s1; Path=/\r\nContent-Length: 2\r\n\r\nok")
            await writer.drain()
            writer.close()  # as a server closing a kept-alive connection after one request

        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        browser = load.Browser(port, "bench.localhost", forwarded_for="10.0.0.1")
        try:
            first = await browser.request("GET", "/a/")
            second = await browser.request("POST", "/b/", form={"x": "1 2"})
        finally:
            await browser.close()
            server.close()
            await server.wait_closed()
        return first, second, answers

    first, second, answers = asyncio.run(run())
    assert first.body == second.body == b"ok"
    assert len(answers) == 2
    assert b"Host: bench.localhost:" in answers[0] and b"X-Forwarded-For: 10.0.0.1" in answers[0]
    assert b"Cookie: sessionid=s1" in answers[1]  # the cookie set by the first answer
    assert answers[1].startswith(b"POST /b/ HTTP/1.1") and b"Content-Length: 5" in answers[1]


def test_booking_form_fills_what_the_form_asks():
    html = ('<form><input type="hidden" name="token" value="signed:abc"><input type="hidden" name="slot" value="">'
            '<input name="given_name"><input name="last_name"><input type="date" name="date_of_birth">'
            '<input type="email" name="email"><input type="checkbox" name="accept_terms"><button>Book</button></form>')
    form = load.booking_form(html, "12-1700000000", 3)
    assert form["token"] == "signed:abc"
    assert form["slot"] == "12-1700000000"
    assert form["accept_terms"] == "on"
    assert set(form) == {"token", "slot", "given_name", "last_name", "date_of_birth", "email", "accept_terms"}
    assert form["email"] != load.booking_form(html, "12-1700001200", 3)["email"]  # a new client per booking


def test_frames_are_same_host_paths():
    html = ('<iframe title="Book" src="http://benchload.localhost:8000/widgets/booking/k1/?lang=en&amp;x=1">'
            '</iframe><p>no frame</p><iframe class="w" src="/widgets/walk-in/k2/"></iframe>')
    assert load.frames_in(html) == ["/widgets/booking/k1/?lang=en&x=1", "/widgets/walk-in/k2/"]


def test_traceback_summary_counts_a_chain_once_by_its_last_exception():
    ours = f'  File "{load.harness.ROOT}/orgs/selectors.py", line 22, in organization_for_host'
    log = "\n".join([
        "Traceback (most recent call last):",
        '  File "/x/.venv/lib/redis/connection.py", line 1, in read',
        "asyncio.exceptions.CancelledError",
        "",
        "The above exception was the direct cause of the following exception:",
        "",
        "Traceback (most recent call last):",
        ours,
        "    organization = ...",
        "django.db.utils.OperationalError: too many clients",
        "INFO something else",
        "Traceback (most recent call last):",
        ours,
        "django.db.utils.OperationalError: too many clients",
    ])
    final = "django.db.utils.OperationalError: too many clients"
    assert dict(load.traceback_summary(log)) == {(final, ours.strip()): 2}
