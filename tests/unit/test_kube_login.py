"""kopf's watches log in with the operator's own credentials, exec plugins included, and read them
afresh when kopf logs in again after a 401."""

from __future__ import annotations

import sys

import httpx
import kopf
import pytest
from aiohttp import web

from studio_operator import handlers
from studio_operator.kube import Kube

from .fake_apiserver import kubeconfig, serving

# An exec plugin that hands out a new token each time it runs: token-1, token-2, ...
PLUGIN = """
import json, pathlib, sys
counter = pathlib.Path(sys.argv[1])
n = int(counter.read_text() or 0) + 1 if counter.exists() else 1
counter.write_text(str(n))
print(json.dumps({"apiVersion": "client.authentication.k8s.io/v1", "kind": "ExecCredential",
                  "status": {"token": f"token-{n}"}}))
"""


@pytest.mark.asyncio
async def test_kopf_logs_in_with_the_exec_plugins_token_and_renews_it_when_asked_again(tmp_path, monkeypatch):
    exec_user = {"exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": sys.executable,
                          "args": ["-c", PLUGIN, str(tmp_path / "runs")], "interactiveMode": "Never"}}
    async with serving() as server:
        monkeypatch.setenv("KUBECONFIG", str(kubeconfig(tmp_path, server, exec_user)))
        memo, settings = kopf.Memo(), kopf.OperatorSettings()
        first = await handlers.login(memo=memo, settings=settings)
        assert (first.server, first.token, first.proxy_url) == (server, "token-1", None)
        again = await handlers.login(memo=memo, settings=settings)
        assert again.token == "token-2"
        # The operator's writes use the same credentials, renewed with them.
        assert (await handlers.shared_credentials(memo)).token == "token-2"


@pytest.mark.asyncio
async def test_the_kubeconfigs_proxy_is_handed_to_kopf_and_carries_the_writes(tmp_path, monkeypatch):
    seen = []

    async def proxy(request: web.Request) -> web.Response:
        seen.append(str(request.url))  # a proxy is asked for the whole URL, not just its path
        return web.json_response({"kind": "Pod", "apiVersion": "v1", "metadata": {"name": "studio"}})

    async with serving(proxy) as proxy_url:
        server = "http://apiserver.invalid:6443"  # reachable only through the proxy
        monkeypatch.setenv("KUBECONFIG", str(kubeconfig(tmp_path, server, {"token": "t"}, **{"proxy-url": proxy_url})))
        memo = kopf.Memo()
        info = await handlers.login(memo=memo, settings=kopf.OperatorSettings())
        assert (info.server, info.proxy_url) == (server, proxy_url)
        client = await Kube.connect(await handlers.shared_credentials(memo))
        assert (await client.get("v1", "Pod", "ns", "studio"))["metadata"]["name"] == "studio"
        await client.close()
    assert seen[-1] == f"{server}/api/v1/namespaces/ns/pods/studio"


@pytest.mark.asyncio
async def test_a_login_that_found_no_server_is_tried_again(tmp_path, monkeypatch):
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig(tmp_path, "http://127.0.0.1:9", {"token": "t"})))  # nothing listens
    memo, settings = kopf.Memo(), kopf.OperatorSettings()
    with pytest.raises(httpx.ConnectError):
        await handlers.login(memo=memo, settings=settings)
    async with serving() as server:
        monkeypatch.setenv("KUBECONFIG", str(kubeconfig(tmp_path, server, {"token": "t"})))
        info = await handlers.login(memo=memo, settings=settings)
    assert (info.server, info.token) == (server, "t")


@pytest.mark.asyncio
async def test_a_kubeconfig_with_tls_server_name_stops_the_operator_at_startup_saying_so(tmp_path, monkeypatch):
    async with serving() as server:
        monkeypatch.setenv("KUBECONFIG", str(kubeconfig(tmp_path, server, {"token": "t"},
                                                        **{"tls-server-name": "api.internal"})))
        with pytest.raises(kopf.PermanentError) as refused:  # a startup handler's: kopf stops, exit code 1
            await handlers.configure(memo=kopf.Memo(), settings=kopf.OperatorSettings())
    assert str(refused.value) == (
        "the kubeconfig's cluster sets tls-server-name (api.internal), which the operator's watches (kopf) "
        "cannot use: set its server to an address its certificate names, or run the operator in the cluster")
