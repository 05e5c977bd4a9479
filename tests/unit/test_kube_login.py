"""kopf's watches log in with the operator's own credentials, exec plugins included, and read them
afresh when kopf logs in again after a 401."""

from __future__ import annotations

import sys

import kopf
import pytest

from studio_operator import handlers

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
        memo = kopf.Memo()
        first = await handlers.login(memo=memo)
        assert (first.server, first.token) == (server, "token-1")
        again = await handlers.login(memo=memo)
        assert again.token == "token-2"
        # The operator's writes use the same credentials, renewed with them.
        assert (await handlers._credentials(memo)).token == "token-2"
