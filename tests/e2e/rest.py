"""Plain JSON over HTTPS to the API server with a kubeconfig's credentials.

For test drivers that make thousands of calls (kubectl costs a process each) and for the fault
proxy's upstream connection. Dicts in, dicts out; errors raise `RestError` with the status.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import pathlib
import ssl
import tempfile
from typing import Any

import httpx
import yaml


@dataclasses.dataclass(frozen=True)
class Credentials:
    server: str
    ca_file: str | None
    cert_file: str | None
    key_file: str | None
    token: str | None

    def ssl_context(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context(cafile=self.ca_file)
        if self.cert_file:
            ctx.load_cert_chain(self.cert_file, self.key_file)
        return ctx


def _file(entry: dict[str, Any], key: str, base: pathlib.Path) -> str | None:
    """A path for `key` (or `key-data`, written to a private temporary file)."""
    if entry.get(f"{key}-data"):
        tmp = tempfile.NamedTemporaryFile("wb", prefix="studio-test-", delete=False)
        tmp.write(base64.b64decode(entry[f"{key}-data"]))
        tmp.close()
        return tmp.name
    path = entry.get(key)
    return str(base / path) if path else None


def credentials(kubeconfig: str) -> Credentials:
    """The current context's server and client credentials."""
    path = pathlib.Path(kubeconfig)
    cfg = yaml.safe_load(path.read_text())
    context = next(c["context"] for c in cfg["contexts"] if c["name"] == cfg["current-context"])
    cluster = next(c["cluster"] for c in cfg["clusters"] if c["name"] == context["cluster"])
    user = next(u["user"] for u in cfg["users"] if u["name"] == context["user"])
    return Credentials(
        server=cluster["server"].rstrip("/"),
        ca_file=_file(cluster, "certificate-authority", path.parent),
        cert_file=_file(user, "client-certificate", path.parent),
        key_file=_file(user, "client-key", path.parent),
        token=user.get("token"),
    )


class RestError(Exception):
    def __init__(self, status: int, body: dict[str, Any] | str):
        self.status = status
        self.body = body
        message = body.get("message", "") if isinstance(body, dict) else body
        super().__init__(f"{status}: {message}")

    @property
    def reason(self) -> str:
        return self.body.get("reason", "") if isinstance(self.body, dict) else ""


STUDIO = "/apis/studio.dev/v1alpha1"


class Rest:
    def __init__(self, kubeconfig: str, timeout: float = 30):
        creds = credentials(kubeconfig)
        headers = {"Authorization": f"Bearer {creds.token}"} if creds.token else {}
        self.http = httpx.Client(base_url=creds.server, verify=creds.ssl_context(), headers=headers, timeout=timeout)

    def close(self) -> None:
        self.http.close()

    def request(self, method: str, path: str, body: Any = None, content_type: str = "application/json",
                params: dict[str, str] | None = None, impersonate: str | None = None) -> dict[str, Any] | None:
        headers = {"Content-Type": content_type}
        if impersonate:
            headers["Impersonate-User"] = impersonate
        resp = self.http.request(method, path, content=None if body is None else json.dumps(body),
                                 headers=headers, params=params)
        if resp.status_code >= 400:
            try:
                raise RestError(resp.status_code, resp.json())
            except ValueError:
                raise RestError(resp.status_code, resp.text) from None
        return resp.json() if resp.content else None

    def get(self, path: str, **kw: Any) -> dict[str, Any] | None:
        try:
            return self.request("GET", path, **kw)
        except RestError as exc:
            if exc.status == 404:
                return None
            raise

    def items(self, path: str, **params: str) -> list[dict[str, Any]]:
        return (self.request("GET", path, params=params) or {}).get("items", [])

    def create(self, path: str, body: dict[str, Any], **kw: Any) -> dict[str, Any]:
        return self.request("POST", path, body, **kw)

    def merge(self, path: str, patch: dict[str, Any], **kw: Any) -> dict[str, Any]:
        return self.request("PATCH", path, patch, content_type="application/merge-patch+json", **kw)

    def delete(self, path: str, **kw: Any) -> bool:
        try:
            self.request("DELETE", path, {"propagationPolicy": "Background"}, **kw)
            return True
        except RestError as exc:
            if exc.status == 404:
                return False
            raise


def studios_path(namespace: str, name: str | None = None) -> str:
    return f"{STUDIO}/namespaces/{namespace}/codestudios" + (f"/{name}" if name else "")


def workspaces_path(name: str | None = None) -> str:
    return f"{STUDIO}/workspaces" + (f"/{name}" if name else "")


def templates_path(name: str | None = None) -> str:
    return f"{STUDIO}/codestudiotemplates" + (f"/{name}" if name else "")


def core_path(kind: str, namespace: str | None = None, name: str | None = None) -> str:
    base = "/api/v1" + (f"/namespaces/{namespace}" if namespace else "")
    return f"{base}/{kind}" + (f"/{name}" if name else "")


def rbac_path(kind: str, namespace: str, name: str | None = None) -> str:
    return f"/apis/rbac.authorization.k8s.io/v1/namespaces/{namespace}/{kind}" + (f"/{name}" if name else "")
