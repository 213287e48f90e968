"""The mail sink of a run: started when a journey reads mail and no sink is given.

The scenario's journeys that read mail (MAIL_GROUPS) need a mailbox. When
flows.mail.mailbox_url is not given, the run starts authsurge's sink on
127.0.0.1:flows.mail.sink.smtp_port (the port the target was told to send to), fills the
URL in before any worker builds its journeys, and stops the sink when the run ends; what
the sink saw goes into meta.json (`mail`, rundir.meta.MailInfo).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from authsurge.mail import MailSink, SinkBehaviour
from authsurge.rundir.meta import MailInfo
from authsurge.scenario import MAIL_GROUPS, Scenario

log = logging.getLogger("authsurge.run")


def reads_mail(scenario: Scenario) -> bool:
    """Does a journey of the scenario wait for a person's mail?"""
    return any(g in MAIL_GROUPS for j in scenario.journeys.values() for g in j.steps)


@contextmanager
def run_mail_sink(scenario: Scenario) -> Iterator[MailSink | None]:
    """The sink the run needs (None: no journey reads mail, or one is given)."""
    mail = scenario.flows.mail
    if not reads_mail(scenario) or mail.mailbox_url is not None:
        yield None
        return
    cfg = mail.sink
    behaviour = SinkBehaviour(
        delay_s=cfg.delay_s,
        jitter_s=cfg.jitter_s,
        drop_share=cfg.drop_share,
        reject_share=cfg.reject_share,
        reject_code=cfg.reject_code,
        seed=cfg.seed,
    )
    sink = MailSink(behaviour, smtp_port=cfg.smtp_port).start()
    try:
        mail.mailbox_url = sink.http_url
        log.info("mail sink: SMTP on 127.0.0.1:%d, mailboxes at %s", sink.smtp_port, sink.http_url)
        yield sink
    finally:
        mail.mailbox_url = None  # the scenario is data: it names no sink that is gone
        sink.stop()


def mail_info(scenario: Scenario, sink: MailSink | None) -> MailInfo | None:
    """meta.json's `mail`: the sink's port, its behaviour and its counters so far."""
    if sink is None:
        return None
    return MailInfo(
        smtp_port=sink.smtp_port,
        behaviour=scenario.flows.mail.sink.model_dump(mode="json"),
        counters=sink.counters(),
    )
