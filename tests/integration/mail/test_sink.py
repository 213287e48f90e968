"""The mail sink for real on 127.0.0.1: mails sent with smtplib, read over HTTP with
MailboxClient, and the provider behaviours (delay, drop, reject) as a target sees them.
The test process is monkey-patched by gevent (tests/conftest.py imports locust), as the
run's process is.

These start real servers, so they live under tests/integration (tests/unit starts none);
the pure parts are tested in tests/unit/mail.
"""

from __future__ import annotations

import gevent

import asyncio
import json
import logging
import smtplib
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from email.message import EmailMessage

import pytest

from authsurge.errors import BadInput
from authsurge.mail import MailboxClient, MailSink, MailSinkError, SinkBehaviour, extract_code

PERSON = "Person0001@Example.com"
CODE_BODY = "Your sign-in code is listed below.\n\nBCDF-GHJK\n"
MARGIN_S = 0.5  # slack for a loaded CI machine on top of a stated time


@pytest.fixture()
def start_sink() -> Iterator[Callable[..., MailSink]]:
    """start_sink(**behaviour) -> a running sink; every sink is stopped at teardown."""
    sinks: list[MailSink] = []

    def start(**behaviour: object) -> MailSink:
        sink = MailSink(SinkBehaviour(**behaviour))  # type: ignore[arg-type]
        sinks.append(sink)
        return sink.start()

    try:
        yield start
    finally:
        for sink in sinks:
            sink.stop()


def send(sink: MailSink, body: str = CODE_BODY, to: str | list[str] = PERSON,
         subject: str = "[127.0.0.1:8000] Sign-In Code") -> None:
    msg = EmailMessage()
    msg["Subject"] = subject
    msg["From"] = "webmaster@localhost"
    msg["To"] = to if isinstance(to, str) else ", ".join(to)
    msg.set_content(body)
    # local_hostname: smtplib would look up this host's FQDN for every connection
    with smtplib.SMTP("127.0.0.1", sink.smtp_port, local_hostname="localhost", timeout=5) as smtp:
        smtp.send_message(msg)


def http_port(sink: MailSink) -> int:
    return int(sink.http_url.rsplit(":", 1)[1])


def test_a_sent_mail_is_readable_from_its_mailbox_over_http_with_its_receive_time(start_sink):
    sink = start_sink()
    before = time.time()
    send(sink)
    after_send = time.time()
    client = MailboxClient(sink.http_url)
    [peeked] = client.peek(PERSON.upper())
    mail = client.wait_for(PERSON, after=before, timeout_s=2.0)
    assert mail == peeked
    assert mail is not None
    assert (mail.recipient, mail.sender) == (PERSON.lower(), "webmaster@localhost")
    assert mail.subject == "[127.0.0.1:8000] Sign-In Code"
    assert extract_code(mail) == "BCDF-GHJK"
    assert before <= mail.received_at <= after_send
    assert sink.counters() == {"received": 1, "delivered": 1, "dropped": 0, "rejected": 0}
    assert client.counters() == sink.counters()


def test_a_delayed_sink_makes_the_mail_visible_only_after_the_delay(start_sink):
    sink = start_sink(delay_s=0.4)
    client = MailboxClient(sink.http_url)
    sent = time.time()
    send(sink)
    assert client.peek(PERSON) == []  # received, not visible yet
    mail = client.wait_for(PERSON, after=sent, timeout_s=0.4 + 2.0, poll_s=0.02)
    seen = time.time()
    assert mail is not None
    assert seen - sent >= 0.4
    assert mail.received_at - sent < 0.4  # the delay is the provider's, not the sending
    assert sink.counters()["delivered"] == 1


def test_dropped_mails_never_arrive_and_wait_for_returns_none_within_its_timeout(start_sink):
    sink = start_sink(drop_share=1.0)
    client = MailboxClient(sink.http_url)
    sent = time.time()
    send(sink)  # accepted with 250: smtplib raises nothing
    t0 = time.monotonic()
    assert client.wait_for(PERSON, after=sent, timeout_s=0.3) is None
    assert 0.3 <= time.monotonic() - t0 <= 0.3 + MARGIN_S
    assert sink.counters() == {"received": 1, "delivered": 0, "dropped": 1, "rejected": 0}
    assert client.peek(PERSON) == []


@pytest.mark.parametrize("code", [421, 451])
def test_a_rejecting_sink_makes_smtplib_raise_with_its_code_at_data(start_sink, code):
    """What Django's send_mail raises inside the target's POST: a 5xx of that step."""
    sink = start_sink(reject_share=1.0, reject_code=code)
    with pytest.raises(smtplib.SMTPDataError) as info:
        send(sink)
    assert info.value.smtp_code == code
    assert isinstance(info.value, smtplib.SMTPResponseException)
    assert sink.counters() == {"received": 1, "delivered": 0, "dropped": 0, "rejected": 1}
    assert MailboxClient(sink.http_url).peek(PERSON) == []


def test_wait_for_consumes_so_two_mails_to_one_person_come_back_one_at_a_time_in_order(
    start_sink,
):
    sink = start_sink()
    client = MailboxClient(sink.http_url)
    start = time.time()
    send(sink, body="first FIRS-T111\n")
    send(sink, body="second SECN-D222\n")
    got = [client.wait_for(PERSON, after=start, timeout_s=1.0) for _ in range(2)]
    assert [extract_code(m) for m in got if m] == ["FIRS-T111", "SECN-D222"]
    assert client.wait_for(PERSON, after=start, timeout_s=0.1) is None
    assert client.peek(PERSON) == []


def test_wait_for_ignores_mails_received_before_after(start_sink):
    sink = start_sink()
    client = MailboxClient(sink.http_url)
    send(sink, body="old OLDO-1111\n")
    later = time.time() + 0.001
    time.sleep(0.01)
    send(sink, body="new NEWN-2222\n")
    mail = client.wait_for(PERSON, after=later, timeout_s=1.0)
    assert mail is not None and extract_code(mail) == "NEWN-2222"
    assert [extract_code(m) for m in client.peek(PERSON)] == ["OLDO-1111"]


def test_a_mail_to_two_recipients_lands_in_both_mailboxes_and_counts_once(start_sink):
    sink = start_sink()
    client = MailboxClient(sink.http_url)
    send(sink, to=["a@example.com", "B@example.com"])
    assert client.wait_for("a@example.com", after=0, timeout_s=1.0) is not None
    assert client.wait_for("b@example.com", after=0, timeout_s=1.0) is not None
    assert sink.counters()["delivered"] == 1


def test_the_same_seed_drops_the_same_mails(start_sink):
    def delivered(seed: int) -> list[str]:
        sink = start_sink(drop_share=0.5, seed=seed)
        for i in range(16):
            send(sink, body=f"mail {i:06d}\n", to=f"p{i}@example.com")
        client = MailboxClient(sink.http_url)
        return [f"p{i}" for i in range(16) if client.peek(f"p{i}@example.com")]

    first = delivered(seed=3)
    assert first == delivered(seed=3)
    assert 0 < len(first) < 16


def test_waiting_for_mail_under_gevent_does_not_block_the_sending_greenlet(start_sink):
    """Journeys wait in Locust's greenlets; the test process is monkey-patched like a worker."""
    sink = start_sink(delay_s=0.1)
    client = MailboxClient(sink.http_url)
    start = time.time()
    waiter = gevent.spawn(client.wait_for, PERSON, after=start, timeout_s=3.0)
    gevent.sleep(0.05)  # the waiter is polling now
    send(sink)
    mail = waiter.get(timeout=3.0 + MARGIN_S)
    assert mail is not None and extract_code(mail) == "BCDF-GHJK"


def test_no_body_or_subject_reaches_the_logs_or_stderr_even_at_debug(start_sink, caplog, capfd):
    caplog.set_level(logging.DEBUG)  # aiosmtpd logs every DATA line at DEBUG
    sink = start_sink()
    start = time.time()
    send(sink, body="Your code is SECRT9 https://127.0.0.1:8000/login/MAGIC/\n",
         subject="Subject TOPSECRET")
    mail = MailboxClient(sink.http_url).wait_for(PERSON, after=start, timeout_s=1.0)
    assert mail is not None
    logging.getLogger("test").debug("got %s", mail)
    out, err = capfd.readouterr()
    for text in (caplog.text, out, err):
        for secret in ("SECRT9", "MAGIC", "TOPSECRET"):
            assert secret not in text


def test_start_and_stop_are_idempotent_and_stop_frees_both_ports_and_keeps_the_counters():
    sink = MailSink()
    with sink:
        assert sink.start() is sink
        ports = (sink.smtp_port, http_port(sink))
        send(sink)
    sink.stop()
    for port in ports:
        with socket.create_server(("127.0.0.1", port)):
            pass  # bindable again
    with pytest.raises(RuntimeError, match="not running"):
        _ = sink.smtp_port
    assert sink.counters() == {"received": 1, "delivered": 1, "dropped": 0, "rejected": 0}


def test_a_sink_leaves_no_running_asyncio_loop_in_a_gevent_patched_process(start_sink):
    """Its asyncio loop runs in a child process: in a greenlet it would be every greenlet's
    running loop (Django's async-unsafe checks, asyncio.run) and a second sink could not start."""
    first, second = start_sink(), start_sink()
    assert first.smtp_port != second.smtp_port
    with pytest.raises(RuntimeError, match="no running event loop"):
        asyncio.get_running_loop()
    assert asyncio.run(asyncio.sleep(0, "ok")) == "ok"


def test_the_sink_stops_when_the_process_that_started_it_dies(tmp_path):
    """A sink never outlives its run: its child sees its stdin close and frees the ports."""
    script = (
        "import time\n"
        "from authsurge.mail import MailSink\n"
        "sink = MailSink().start()\n"
        "print(sink.smtp_port, sink.http_url.rsplit(':', 1)[1], flush=True)\n"
        "time.sleep(60)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None
        ports = [int(p) for p in parent.stdout.readline().split()]
        assert len(ports) == 2
    finally:
        parent.kill()  # no stop(), no finally, no atexit
        parent.wait()
    deadline = time.monotonic() + 5.0
    while True:
        try:
            for port in ports:
                with socket.create_server(("127.0.0.1", port)):
                    pass
            break
        except OSError:
            assert time.monotonic() < deadline, "the orphaned sink still holds its ports"
            time.sleep(0.05)


def test_a_port_in_use_is_bad_input_and_the_other_port_is_freed():
    with socket.create_server(("127.0.0.1", 0)) as taken:
        busy = taken.getsockname()[1]
        with socket.create_server(("127.0.0.1", 0)) as probe:
            smtp_port = probe.getsockname()[1]
        sink = MailSink(smtp_port=smtp_port, http_port=busy)
        with pytest.raises(BadInput, match=f"HTTP port {busy} on 127.0.0.1 is already in use"):
            sink.start()
        assert not sink.running
    with socket.create_server(("127.0.0.1", smtp_port)):
        pass  # the SMTP port bound before the failure was freed


def test_wait_for_on_a_stopped_sink_raises_mail_sink_error_after_its_timeout():
    sink = MailSink().start()
    url = sink.http_url
    sink.stop()
    t0 = time.monotonic()
    with pytest.raises(MailSinkError, match="failed"):
        MailboxClient(url).wait_for(PERSON, after=0, timeout_s=0.2)
    assert time.monotonic() - t0 <= 0.2 + MARGIN_S


def test_the_http_api_answers_404_for_unknown_paths_and_400_for_a_bad_after(start_sink):
    sink = start_sink()
    for path, status in [("/nothing", 404), ("/mail/a%40x?after=soon", 400)]:
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(sink.http_url + path, timeout=2)
        assert info.value.code == status
        assert "error" in json.loads(info.value.read())


@pytest.mark.parametrize(("timeout_s", "poll_s"), [(-1.0, 0.05), (1.0, 0.0)])
def test_wait_for_refuses_a_negative_timeout_or_a_zero_poll(timeout_s, poll_s):
    with pytest.raises(ValueError):
        MailboxClient("http://127.0.0.1:9").wait_for(PERSON, after=0, timeout_s=timeout_s,
                                                     poll_s=poll_s)


def test_the_smtp_server_answers_ehlo_without_a_nagle_stall(start_sink):
    """Without TCP_NODELAY each multi-line EHLO answer waits ~40 ms for a delayed ACK: time
    the sink would add to every target request that sends mail."""
    sink = start_sink()
    took = []
    for _ in range(5):
        with smtplib.SMTP("127.0.0.1", sink.smtp_port, local_hostname="localhost", timeout=5) as smtp:
            t0 = time.perf_counter()
            smtp.ehlo()
            took.append(time.perf_counter() - t0)
    assert sorted(took)[2] < 0.02  # the median: one pause of a loaded machine does not count


def test_aiosmtpd_debug_logging_of_data_lines_never_shows_a_body():
    """aiosmtpd logs every DATA line at DEBUG; the sink drops those records, so even a
    process logging everything at DEBUG shows no code. (In an unpatched interpreter, where
    the in-process SinkServer may run.)"""
    script = (
        "import logging, smtplib\n"
        "logging.basicConfig(level=logging.DEBUG)\n"
        "from authsurge.mail.server import SinkServer\n"
        "with SinkServer() as server:\n"
        "    with smtplib.SMTP('127.0.0.1', server.smtp_port, local_hostname='localhost') as s:\n"
        "        s.sendmail('a@x', ['b@x'], 'Subject: TOPSECRET\\r\\n\\r\\ncode SECRT9\\r\\n')\n"
        "    logging.getLogger('test').debug('got %s', server.mailboxes.visible('b@x', after=0))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=30, check=True)
    logged = done.stdout + done.stderr
    assert "b@x" in logged  # logging was on: aiosmtpd's INFO lines and the test's DEBUG line
    assert "SECRT9" not in logged and "TOPSECRET" not in logged
