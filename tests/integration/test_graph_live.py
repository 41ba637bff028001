"""The Graph backend against a real Exchange Online tenant, when one is named.

COLLABD_GRAPH_LIVE=/path/to/collabd.yaml names a deployment whose `backend: graph`
section (tenant, application, secret or certificate) reaches a test mailbox. The test
signs in, sends a message to the shared mailbox itself, finds it by delta query, checks
that the headers that keep auto-replies and loops away survived, and moves it to the
processed folder. Nothing is sent to anyone else.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from collabd.app import make_mailbox
from collabd.config import load_config
from collabd.mailbox.graph import GraphMailbox
from helpers import live_round_trip

pytestmark = pytest.mark.integration

LIVE = os.environ.get("COLLABD_GRAPH_LIVE")


@pytest.fixture
def live() -> GraphMailbox:
    if not LIVE:
        pytest.skip("no Exchange Online tenant named: set COLLABD_GRAPH_LIVE to a "
                    "collabd.yaml with backend: graph to run this against one")
    mailbox = make_mailbox(load_config(Path(LIVE)))
    assert isinstance(mailbox, GraphMailbox), "COLLABD_GRAPH_LIVE must name backend: graph"
    return mailbox


def test_round_trip_on_exchange_online(live: GraphMailbox) -> None:
    findings = live.check()
    assert all(ok for ok, _ in findings), findings
    live.start()
    # Read to the end of the folder first: the test's own message is then the news.
    cursor = None
    while True:
        batch = live.fetch(cursor)
        cursor = batch.cursor
        if not batch.more:
            break
    receipt, _, arrived = live_round_trip(live, cursor, pause=5.0)
    assert receipt.server_message_id in (None, arrived["Message-ID"])
