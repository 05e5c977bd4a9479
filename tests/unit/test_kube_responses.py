"""What the operator's API client makes of a real HTTP answer: the server's Status message, its
Retry-After, and a connection dropped without an answer (tests/e2e/test_api_faults.py shows the
operator acting on them against a real API server)."""

from __future__ import annotations

import pytest
from aiohttp import web

from studio_operator.kube import ApiError, Kube, RetryLater

from .fake_apiserver import kubeconfig, serving


def status(code: int, reason: str, message: str, **headers: str) -> web.Response:
    return web.json_response({"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": reason,
                              "message": message, "code": code}, status=code, headers=headers)


async def answer(tmp_path, monkeypatch, handler) -> Exception:
    """The error a GET of a pod raises when the server answers with `handler`."""
    async with serving(handler) as server:
        monkeypatch.setenv("KUBECONFIG", str(kubeconfig(tmp_path, server, {})))
        client = await Kube.connect()
        try:
            with pytest.raises((ApiError, RetryLater)) as raised:
                await client.get("v1", "Pod", "ns", "studio")
        finally:
            await client.close()
    return raised.value


@pytest.mark.asyncio
async def test_throttling_carries_the_servers_retry_after(tmp_path, monkeypatch):
    async def throttle(_: web.Request) -> web.Response:
        return status(429, "TooManyRequests", "too many requests, please try again later", **{"Retry-After": "7"})

    error = await answer(tmp_path, monkeypatch, throttle)
    assert isinstance(error, ApiError)
    assert (error.status, error.reason, error.retry_after, error.retryable) == (429, "TooManyRequests", 7.0, True)
    assert error.message == "too many requests, please try again later"


@pytest.mark.asyncio
async def test_a_server_error_is_retried_and_a_refusal_is_not(tmp_path, monkeypatch):
    async def unavailable(_: web.Request) -> web.Response:
        return status(503, "ServiceUnavailable", "the server is currently unable to handle the request")

    error = await answer(tmp_path, monkeypatch, unavailable)
    assert (error.status, error.retry_after, error.retryable, error.refusal) == (503, None, True, False)

    async def invalid(_: web.Request) -> web.Response:
        return status(422, "Invalid", 'Pod "studio" is invalid: spec.containers[0].image: Required value')

    error = await answer(tmp_path, monkeypatch, invalid)
    assert (error.retryable, error.refusal) == (False, True)
    assert error.message == 'Pod "studio" is invalid: spec.containers[0].image: Required value'


@pytest.mark.asyncio
async def test_an_answer_that_is_no_status_keeps_its_text(tmp_path, monkeypatch):
    async def proxy_error(_: web.Request) -> web.Response:
        return web.Response(status=502, text="Bad Gateway")

    error = await answer(tmp_path, monkeypatch, proxy_error)
    assert (error.status, error.message, error.retryable) == (502, "Bad Gateway", True)


@pytest.mark.asyncio
async def test_a_connection_dropped_without_an_answer_is_retried_later(tmp_path, monkeypatch):
    async def drop(request: web.Request) -> web.Response:
        request.transport.abort()
        raise ConnectionResetError

    error = await answer(tmp_path, monkeypatch, drop)
    assert isinstance(error, RetryLater)
    assert "GET /api/v1/namespaces/ns/pods/studio" in str(error)
