"""The sink's mailboxes: delivered mails per recipient, each visible from its own time.

Threads of both servers share one `Mailboxes` (the SMTP loop delivers, the HTTP handlers
read and take), so every method holds one lock, and none does I/O under it.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from authsurge.mail.message import Mail


@dataclass(frozen=True)
class Held:
    """A delivered mail and the time it becomes visible in its mailbox."""

    mail: Mail
    visible_at: float


class Mailboxes:
    """Delivered mails per lower-cased recipient, in the order they become visible."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._boxes: dict[str, list[Held]] = {}

    def deliver(self, mail: Mail, visible_at: float) -> None:
        """Put `mail` in its recipient's mailbox, visible from `visible_at` (epoch s)."""
        held = Held(mail, visible_at)
        with self._lock:
            box = self._boxes.setdefault(mail.recipient.lower(), [])
            box.append(held)
            # keep visible order; mails mostly arrive in it, so this is a short walk
            i = len(box) - 1
            while i > 0 and box[i - 1].visible_at > visible_at:
                box[i], box[i - 1] = box[i - 1], box[i]
                i -= 1

    def visible(self, recipient: str, *, after: float, now: float | None = None) -> list[Held]:
        """The mails to `recipient` received at or after `after` and visible at `now`
        (default: time.time()), first visible first; nothing is removed."""
        now = time.time() if now is None else now
        with self._lock:
            box = self._boxes.get(recipient.lower(), [])
            return [h for h in box if h.visible_at <= now and h.mail.received_at >= after]

    def take(self, recipient: str, *, after: float, now: float | None = None) -> Held | None:
        """Remove and return the first mail `visible` would list, or None."""
        now = time.time() if now is None else now
        key = recipient.lower()
        with self._lock:
            box = self._boxes.get(key, [])
            for i, held in enumerate(box):
                if held.visible_at > now:
                    break  # the rest become visible later still
                if held.mail.received_at >= after:
                    del box[i]
                    if not box:
                        del self._boxes[key]
                    return held
        return None

    def __len__(self) -> int:
        """How many mails the mailboxes hold, visible or not yet."""
        with self._lock:
            return sum(len(box) for box in self._boxes.values())
