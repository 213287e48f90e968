"""The sink's mailboxes: visibility by time, `after`, take-once, order (a fixed clock)."""

from __future__ import annotations

from authsurge.mail import Mail
from authsurge.mail.store import Mailboxes

T0 = 1_700_000_000.0


def mail(recipient: str, received_at: float, body: str = "x") -> Mail:
    return Mail(recipient=recipient, sender="s@x", subject="s", body=body, received_at=received_at)


def test_a_mail_is_visible_only_from_its_visible_time():
    boxes = Mailboxes()
    boxes.deliver(mail("a@x", T0), T0 + 2.0)
    assert boxes.visible("a@x", after=0, now=T0 + 1.9) == []
    assert boxes.take("a@x", after=0, now=T0 + 1.9) is None
    held = boxes.take("a@x", after=0, now=T0 + 2.0)
    assert held is not None and held.visible_at == T0 + 2.0


def test_mails_received_before_after_are_ignored():
    boxes = Mailboxes()
    boxes.deliver(mail("a@x", T0), T0)
    assert boxes.take("a@x", after=T0 + 0.001, now=T0 + 5) is None
    assert len(boxes) == 1


def test_take_removes_and_returns_mails_one_at_a_time_first_visible_first():
    boxes = Mailboxes()
    boxes.deliver(mail("a@x", T0, "late"), T0 + 3.0)  # received first, visible last
    boxes.deliver(mail("a@x", T0 + 1, "early"), T0 + 1.5)
    taken = [boxes.take("a@x", after=0, now=T0 + 10) for _ in range(3)]
    assert [h.mail.body if h else None for h in taken] == ["early", "late", None]
    assert len(boxes) == 0


def test_recipients_are_matched_without_case():
    boxes = Mailboxes()
    boxes.deliver(mail("Person@Example.com", T0), T0)
    assert [h.mail.recipient for h in boxes.visible("PERSON@example.COM", after=0, now=T0)] == [
        "Person@Example.com"]
