"""studioctl studio open's local listener: what a busy port says, and URLs of IPv6 addresses."""

from __future__ import annotations

import socket

import pytest

from studio_operator.client import PortForward, StudioError


def test_a_busy_port_is_an_error_naming_the_address_and_the_reason():
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        with pytest.raises(StudioError) as caught:
            PortForward(None, "team-a", "notebook", 8888, local_port=port)
    assert str(caught.value) == f"cannot listen on 127.0.0.1:{port}: Address already in use"


def test_an_address_that_is_not_this_machines_is_an_error():
    with pytest.raises(StudioError, match=r"^cannot listen on 192\.0\.2\.1:0: Cannot assign requested address$"):
        PortForward(None, "team-a", "notebook", 8888, address="192.0.2.1")


@pytest.mark.skipif(not socket.has_ipv6, reason="no IPv6")
def test_an_ipv6_address_is_bracketed_in_the_url():
    forward = PortForward(None, "team-a", "notebook", 8888, address="::1")
    try:
        assert forward.url == f"http://[::1]:{forward.local_port}/"
    finally:
        forward.close()
