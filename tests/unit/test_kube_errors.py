"""Which API errors are refusals of the object itself (the studio says why) and which pass."""

from __future__ import annotations

import pytest

from studio_operator.kube import ApiError


@pytest.mark.parametrize(("status", "message", "refusal"), [
    (422, 'Pod "s" is invalid: spec.containers[0].resources.requests: Invalid value', True),
    (400, "bad request", True),
    (403, 'pods "s" is forbidden: exceeded quota: q, requested: requests.cpu=3', True),
    (403, 'pods "s" is forbidden: violates PodSecurity "restricted:latest"', True),
    (403, "unable to create new content in namespace ns because it is being terminated", False),
    (404, "not found", False),
    (409, "the object has been modified", False),
    (429, "too many requests", False),
    (500, "internal error", False),
    (503, "unavailable", False),
])
def test_refusal(status: int, message: str, refusal: bool):
    assert ApiError(status, "", message).refusal is refusal
