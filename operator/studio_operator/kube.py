"""The operator's Kubernetes client: server-side apply, create, delete and status patches.

Credentials come from kr8s (kubeconfig, in-cluster service account, exec plugins), and kopf's
watches log in with the same ones (`connection_info`). Requests go over one aiohttp connection
pool (aiohttp is kopf's own transport): measured with `python -m bench.clients`, a request costs
the operator about a tenth of the CPU it costs through httpx (see bench/README.md). Every write
goes through here, so there is one field manager. Errors surface as `ApiError` (retryable for
409, 429 and 5xx, with the server's Retry-After) or `RetryLater` (the connection failed); the
work queue turns both into a backoff.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import warnings
from typing import Any

import aiohttp
import kopf
import kr8s.asyncio

from . import __version__
from .labels import FIELD_MANAGER

log = logging.getLogger(__name__)

# Server-side apply as the operator: whoever applies with these takes the operator's fields.
APPLY_CONTENT_TYPE = "application/apply-patch+yaml"
APPLY_PARAMS = {"fieldManager": FIELD_MANAGER, "force": "true"}

# Names the operator in the API server's audit log.
USER_AGENT = f"{FIELD_MANAGER}/{__version__}"

PLURALS = {
    "Pod": "pods",
    "Service": "services",
    "PersistentVolumeClaim": "persistentvolumeclaims",
    "PersistentVolume": "persistentvolumes",
    "Namespace": "namespaces",
    "ServiceAccount": "serviceaccounts",
    "ResourceQuota": "resourcequotas",
    "LimitRange": "limitranges",
    "Secret": "secrets",
    "ConfigMap": "configmaps",
    "Role": "roles",
    "RoleBinding": "rolebindings",
    "ClusterRole": "clusterroles",
    "ClusterRoleBinding": "clusterrolebindings",
    "NetworkPolicy": "networkpolicies",
    "Job": "jobs",
    "Event": "events",
    "Workspace": "workspaces",
    "CodeStudio": "codestudios",
    "CodeStudioTemplate": "codestudiotemplates",
    "SubjectAccessReview": "subjectaccessreviews",
}


# How Kubernetes' RBAC authorizer words a denial: `User "..." cannot create resource "pods" ...`.
RBAC_DENIAL = re.compile(r'cannot [a-z]+ resource "')


def operator_forbidden(status: int, message: str) -> bool:
    """RBAC denied the operator itself, not the object it wrote: its install lacks a permission
    (a chart older than the image, a trimmed role), nothing the object's owner can change."""
    return status == 403 and RBAC_DENIAL.search(message) is not None


class ApiError(Exception):
    """A request the API server refused; `retryable` says whether trying again may help."""

    def __init__(self, status: int, reason: str, message: str, retry_after: float | None = None):
        super().__init__(f"{status} {reason}: {message}")
        self.status = status
        self.reason = reason
        self.message = message
        self.retry_after = retry_after

    @property
    def retryable(self) -> bool:
        return self.status in (409, 429) or self.status >= 500

    @property
    def namespace_terminating(self) -> bool:
        """The namespace is being deleted and takes the object with it."""
        return self.status == 403 and "being terminated" in self.message

    @property
    def refusal(self) -> bool:
        """The server refused the object itself (invalid, over quota, against admission policy),
        not the moment; a namespace being deleted is the moment."""
        return self.status in (400, 403, 422) and not self.namespace_terminating

    @property
    def operator_forbidden(self) -> bool:
        return operator_forbidden(self.status, self.message)


class RetryLater(Exception):
    """Try the whole reconcile again after `delay` seconds (conflict, throttling, outage)."""

    def __init__(self, message: str, delay: float | None = None):
        super().__init__(message)
        self.delay = delay


def path_of(api_version: str, kind: str, namespace: str | None = None, name: str | None = None) -> str:
    base = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
    parts = [base]
    if namespace:
        parts += ["namespaces", namespace]
    parts.append(PLURALS[kind])
    if name:
        parts.append(name)
    return "/".join(parts)


def _error_from(status: int, body: bytes, retry_after: str | None) -> ApiError:
    try:
        parsed = json.loads(body)
        reason, message = parsed.get("reason", ""), parsed.get("message", body.decode(errors="replace"))
    except ValueError:
        reason, message = "", body.decode(errors="replace")
    return ApiError(status, reason, message, float(retry_after) if retry_after else None)


async def credentials() -> Any:
    """kr8s's credentials from the kubeconfig or the pod's service account: the server, a token or
    client certificate (an exec plugin's, if the kubeconfig names one), and how to renew them."""
    # kr8s warns about API server versions newer than it was tested with; we use only its
    # credentials, which do not depend on the server version.
    warnings.filterwarnings("ignore", message="Kubernetes version .* is not supported", category=UserWarning)
    return (await kr8s.asyncio.api()).auth


def check_usable(auth: Any) -> None:
    """Refuses credentials kopf's watches cannot use, saying why (a startup handler's PermanentError
    stops the operator; a login handler's would leave it waiting, silent)."""
    if getattr(auth, "tls_server_name", None):
        # kopf's watches verify the certificate against the server's own host name, with no
        # override: they would fail on every connection with an SSL error that names neither.
        raise kopf.PermanentError(
            f"the kubeconfig's cluster sets tls-server-name ({auth.tls_server_name}), which the operator's "
            f"watches (kopf) cannot use: set its server to an address its certificate names, "
            f"or run the operator in the cluster")


async def connection_info(auth: Any, renew: bool, trust_env: bool = False) -> kopf.ConnectionInfo:
    """The credentials as kopf's login handlers give them. kopf's own login reads only static tokens
    and certificates from a kubeconfig (it leaves exec plugins to the `kubernetes` package, which the
    operator does not load: launch.py). kopf asks again when the server refused them (401): `renew`
    then reads them afresh, as `Kube.request` does, running the exec plugin or rereading the
    rotated service account token."""
    if renew:
        await auth.reauthenticate()
    return kopf.ConnectionInfo(
        server=auth.server,
        ca_path=_path(auth.server_ca_file),
        # insecure-skip-tls-verify, which kr8s keeps only for the SSL context it makes itself.
        insecure=bool(getattr(auth, "_insecure_skip_tls_verify", False)),
        token=auth.token or None,
        certificate_path=_path(auth.client_cert_file),
        private_key_path=_path(auth.client_key_file),
        proxy_url=proxy_of(auth),
        trust_env=trust_env,
    )


def proxy_of(auth: Any) -> str | None:
    """The kubeconfig cluster's proxy-url; a service account has none (kr8s then has no cluster)."""
    try:
        return auth.proxy
    except AttributeError:
        return None


def _path(path: Any) -> str | None:
    return str(path) if path else None


class Kube:
    """Thin async access to the API server for the reconcilers."""

    # Requests in flight at once; more wait for a free connection.
    CONNECTIONS = 64
    # No request may wait forever: a half-open connection would hold its worker, and the studio
    # it reconciles, until the operator restarts. Writes and gets answer in milliseconds.
    TIMEOUT = aiohttp.ClientTimeout(total=30, connect=10)

    def __init__(self, auth: Any, session: aiohttp.ClientSession):
        self.auth = auth  # kr8s's credentials: server, token, and how to refresh them
        self.proxy = proxy_of(auth)
        self.session = session

    @classmethod
    async def connect(cls, auth: Any = None) -> Kube:
        auth = auth or await credentials()
        connector = aiohttp.TCPConnector(ssl=await auth.ssl_context(), limit=cls.CONNECTIONS)
        return cls(auth, aiohttp.ClientSession(connector=connector, timeout=cls.TIMEOUT,
                                               headers={"User-Agent": USER_AGENT}))

    async def close(self) -> None:
        await self.session.close()

    async def request(self, method: str, path: str, *, body: Any = None, content_type: str | None = None,
                      params: dict[str, str] | None = None) -> dict[str, Any] | None:
        data = json.dumps(body) if body is not None else None
        reauthenticated = False
        while True:
            headers = {"Content-Type": content_type} if content_type else {}
            if self.auth.token:
                headers["Authorization"] = f"Bearer {self.auth.token}"
            try:
                async with self.session.request(method, self.auth.server + path, data=data, headers=headers,
                                                params=params, server_hostname=self.auth.tls_server_name,
                                                proxy=self.proxy) as resp:
                    content = await resp.read()
                    status, retry_after = resp.status, resp.headers.get("Retry-After")
            except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
                raise RetryLater(f"{method} {path}: {exc.__class__.__name__}: {exc}") from exc
            if status == 401 and not reauthenticated:
                await self.auth.reauthenticate()  # an expired token: read it again, once
                reauthenticated = True
                continue
            if status >= 400:
                raise _error_from(status, content, retry_after)
            return json.loads(content) if content else None

    async def apply(self, manifest: dict[str, Any]) -> dict[str, Any]:
        """Server-side apply with the operator's field manager (forcing: the operator owns these)."""
        meta = manifest["metadata"]
        path = path_of(manifest["apiVersion"], manifest["kind"], meta.get("namespace"), meta["name"])
        return await self.request(
            "PATCH", path, body=manifest, content_type=APPLY_CONTENT_TYPE, params=APPLY_PARAMS,
        )

    async def create(self, manifest: dict[str, Any]) -> dict[str, Any] | None:
        """Creates the object; None when one of that name already exists."""
        path = path_of(manifest["apiVersion"], manifest["kind"], manifest["metadata"].get("namespace"))
        try:
            return await self.request(
                "POST", path, body=manifest, content_type="application/json", params={"fieldManager": FIELD_MANAGER}
            )
        except ApiError as exc:
            if exc.status == 409 and exc.reason == "AlreadyExists":
                return None
            raise

    async def delete(self, api_version: str, kind: str, namespace: str | None, name: str, uid: str | None = None) -> bool:
        """Deletes the object (only that incarnation when uid is given); False when it was already gone."""
        body = {"apiVersion": "v1", "kind": "DeleteOptions", "propagationPolicy": "Background"}
        if uid:
            body["preconditions"] = {"uid": uid}
        try:
            await self.request("DELETE", path_of(api_version, kind, namespace, name), body=body,
                               content_type="application/json")
            return True
        except ApiError as exc:
            # 404: already gone; 409 on a uid precondition: a newer object of that name exists.
            if exc.status == 404 or (exc.status == 409 and uid):
                return False
            raise

    async def patch_status(self, api_version: str, kind: str, namespace: str | None, name: str,
                           patch: dict[str, Any]) -> dict[str, Any] | None:
        """Merge-patches the status subresource; None when the object is gone."""
        path = path_of(api_version, kind, namespace, name) + "/status"
        try:
            return await self.request("PATCH", path, body={"status": patch}, content_type="application/merge-patch+json",
                                      params={"fieldManager": FIELD_MANAGER})
        except ApiError as exc:
            if exc.status == 404:
                return None
            raise

    async def patch(self, api_version: str, kind: str, namespace: str | None, name: str,
                    patch: dict[str, Any]) -> dict[str, Any] | None:
        """Merge-patches the object; None when it is gone. A resourceVersion in the patch makes it
        conditional (409 when the object changed since)."""
        try:
            return await self.request("PATCH", path_of(api_version, kind, namespace, name), body=patch,
                                      content_type="application/merge-patch+json", params={"fieldManager": FIELD_MANAGER})
        except ApiError as exc:
            if exc.status == 404:
                return None
            raise

    async def get(self, api_version: str, kind: str, namespace: str | None, name: str) -> dict[str, Any] | None:
        try:
            return await self.request("GET", path_of(api_version, kind, namespace, name))
        except ApiError as exc:
            if exc.status == 404:
                return None
            raise

    async def list(self, api_version: str, kind: str, namespace: str | None = None,
                   label_selector: str | None = None) -> list[dict[str, Any]]:
        params = {"labelSelector": label_selector} if label_selector else None
        result = await self.request("GET", path_of(api_version, kind, namespace), params=params)
        return (result or {}).get("items", [])
