"""The Exchange backend against a real Exchange Server, when one is named.

COLLABD_EWS_LIVE=/path/to/collabd.yaml names a deployment whose `backend: ews` section
(and secret files) reach a test mailbox. The test logs in, sends a message to the shared
mailbox itself, finds it with SyncFolderItems, moves it to the processed folder and asks
for free/busy. It creates no meeting (that would send invitations) unless
COLLABD_EWS_LIVE_MEETINGS=1 is set too, in which case it creates one with the shared
mailbox as the only attendee and cancels it.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from pathlib import Path

import pytest

from collabd.app import make_mailbox
from collabd.config import load_config
from collabd.mailbox.base import Attendee, NativeMeeting
from collabd.mailbox.ews import EwsMailbox
from helpers import live_round_trip

pytestmark = pytest.mark.integration

LIVE = os.environ.get("COLLABD_EWS_LIVE")


@pytest.fixture
def live() -> EwsMailbox:
    if not LIVE:
        pytest.skip("no Exchange server named: set COLLABD_EWS_LIVE to a collabd.yaml with "
                    "backend: ews to run this against one")
    config = load_config(Path(LIVE))
    mailbox = make_mailbox(config)
    assert isinstance(mailbox, EwsMailbox), "COLLABD_EWS_LIVE must name a backend: ews config"
    return mailbox


def test_round_trip_on_a_real_exchange(live: EwsMailbox) -> None:
    findings = live.check()
    assert all(ok for ok, _ in findings), findings
    live.start()
    # Exchange writes the MIME anew: the headers that keep auto-replies and loops away
    # must have survived it, and the Message-ID read back must be the one it sent.
    receipt, _, arrived = live_round_trip(live)
    token = uuid.uuid4().hex[:12]
    assert receipt.server_message_id == arrived["Message-ID"]
    busy = live.native.busy([live.address], dt.datetime.now(dt.UTC),
                            dt.datetime.now(dt.UTC) + dt.timedelta(days=1)) if (
        live.native) else {}
    assert live.address in busy or not live.native
    if os.environ.get("COLLABD_EWS_LIVE_MEETINGS") == "1" and live.native is not None:
        start = (dt.datetime.now(dt.UTC) + dt.timedelta(days=7)).replace(
            minute=0, second=0, microsecond=0)
        meeting = NativeMeeting(
            uid=f"collabd-live-{token}@collabd.invalid", subject=f"collabd live {token}",
            start=start, end=start + dt.timedelta(minutes=30), location="",
            body_html="<p>collabd live test</p>",
            attendees=(Attendee(live.address, "collabd"),))
        live.native.save_meeting(meeting, notify=[live.address])
        answers = live.native.responses([meeting.uid])  # found again by its UID
        assert isinstance(answers, dict)
        live.native.cancel_meeting(meeting.uid, reason="collabd live test")
    live.stop()
