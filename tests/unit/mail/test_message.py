"""Reading a received MIME message into a Mail, and the secrets rule: a Mail never shows
its body or subject."""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from authsurge.mail import Mail
from authsurge.mail.message import html_to_text, parse_mail

CODE_BODY = "Your sign-in code is listed below.\n\nABC123\n"


def message(plain: str | None = None, html: str | None = None, charset: str = "utf-8") -> bytes:
    msg = EmailMessage()
    msg["Subject"] = "[127.0.0.1:8000] Sign-In Code ABC123"
    msg["From"] = "webmaster@localhost"
    msg["To"] = "Person0001@Example.com"
    if plain is not None:
        msg.set_content(plain, charset=charset)
    if html is not None:
        if plain is None:
            msg.set_content(html, subtype="html")
        else:
            msg.add_alternative(html, subtype="html")
    # what smtplib sends: CRLF line ends
    return msg.as_bytes().replace(b"\n", b"\r\n")


def read(raw: bytes) -> Mail:
    return parse_mail(raw, recipient="Person0001@Example.com", sender="webmaster@localhost",
                      received_at=1_700_000_000.25)


def test_a_plain_mail_keeps_recipient_lower_cased_sender_subject_text_and_receive_time():
    mail = read(message(plain=CODE_BODY))
    assert mail.recipient == "person0001@example.com"
    assert mail.sender == "webmaster@localhost"
    assert mail.subject == "[127.0.0.1:8000] Sign-In Code ABC123"
    assert mail.body == CODE_BODY
    assert mail.received_at == 1_700_000_000.25


def test_text_plain_is_preferred_over_html_in_a_multipart_alternative():
    mail = read(message(plain="plain ABC123\n", html="<p>html XYZ789</p>"))
    assert mail.body == "plain ABC123\n"


def test_an_html_only_mail_is_read_as_text_with_the_address_of_each_link():
    html = ("<html><head><style>p {color: red}</style></head><body><p>Hello&nbsp;Person,</p>"
            '<p><a href="https://127.0.0.1:8000/accounts/confirm-email/Mg:1t/">Click here</a>'
            " to confirm.</p></body></html>")
    mail = read(message(html=html))
    assert "color" not in mail.body
    assert "Hello\xa0Person," in mail.body or "Hello Person," in mail.body
    assert "Click here (https://127.0.0.1:8000/accounts/confirm-email/Mg:1t/)" in mail.body


def test_quoted_printable_and_base64_bodies_are_decoded():
    text = "Grüße, dein Code ist ABC123 – bis gleich\n" * 3
    assert read(message(plain=text, charset="utf-8")).body == text  # 8-bit text is base64'd
    raw = (b"Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\r\nContent-Type: text/plain; charset=utf-8\r\n"
           b"Content-Transfer-Encoding: quoted-printable\r\n\r\nCode: ABC123 =E2=80=93 ok\r\n")
    mail = read(raw)
    assert mail.subject == "Grüße"
    assert mail.body == "Code: ABC123 – ok\n"


def test_a_message_without_text_has_an_empty_body():
    raw = b"Subject: x\r\nContent-Type: application/octet-stream\r\n\r\nAAAA\r\n"
    assert read(raw).body == ""


def test_an_unknown_charset_is_decoded_with_replacement_rather_than_failing():
    raw = b"Subject: x\r\nContent-Type: text/plain; charset=x-nonsense\r\n\r\ncode ABC123\r\n"
    assert "ABC123" in read(raw).body


def test_repr_and_str_of_a_mail_never_show_its_body_or_subject():
    mail = read(message(plain="Your code is ABC123 https://127.0.0.1:8000/login/code/ZZZ/"))
    for shown in (repr(mail), str(mail), f"{mail}", repr([mail])):
        assert "ABC123" not in shown
        assert "ZZZ" not in shown
        assert "Sign-In" not in shown
        assert f"body=<{len(mail.body)} chars, hidden>" in shown
        assert "person0001@example.com" in shown


def test_a_mail_goes_over_the_wire_and_back_unchanged():
    mail = read(message(plain=CODE_BODY))
    assert Mail.from_dict(mail.as_dict()) == mail


@pytest.mark.parametrize("broken", [{}, {"recipient": "a", "sender": "b", "subject": "c",
                                         "body": 5, "received_at": 1.0},
                                    {"recipient": "a", "sender": "b", "subject": "c",
                                     "body": "SECRET42", "received_at": "soon"}])
def test_a_malformed_wire_mail_raises_value_error_without_its_content(broken):
    with pytest.raises(ValueError) as info:
        Mail.from_dict(broken)
    assert "SECRET42" not in str(info.value)


def test_html_to_text_drops_scripts_and_keeps_block_breaks():
    text = html_to_text("<div>one</div><script>var s='ABC123'</script><div>two<br>three</div>")
    assert text == "one\ntwo\nthree"
