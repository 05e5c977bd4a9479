"""The SDK's entry point: a Client connected to one cluster."""

from __future__ import annotations

import json
import os
import pathlib
from typing import Any, TypeVar

from kubernetes import client as k8s
from kubernetes import config as kubeconfig_loader
from kubernetes.client.exceptions import ApiException

from ..api.common import OPERATOR_NAMESPACE
from .errors import StudioError, api_errors
from .resources import CODE_STUDIOS, Kind, Objects
from .studios import CodeStudio, filter_studios
from .templates import Templates
from .workspaces import Workspaces

A = TypeVar("A")
SERVICE_ACCOUNT_NAMESPACE = pathlib.Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")


def _load(kubeconfig: str | None, context: str | None) -> tuple[k8s.Configuration, str]:
    """Credentials and default namespace: the kubeconfig file (else $KUBECONFIG, else
    ~/.kube/config), or the pod's service account when there is no kubeconfig at all."""
    configuration = k8s.Configuration()
    # The kubernetes package reads $KUBECONFIG once, at import; read it now, as kubectl would.
    kubeconfig = kubeconfig or os.environ.get("KUBECONFIG") or None
    try:
        kubeconfig_loader.load_kube_config(config_file=kubeconfig, context=context, client_configuration=configuration)
    except kubeconfig_loader.ConfigException as exc:
        if kubeconfig or context or "KUBERNETES_SERVICE_HOST" not in os.environ:
            raise StudioError(f"cannot load kubeconfig: {exc}") from None
        kubeconfig_loader.load_incluster_config(client_configuration=configuration)
        return configuration, SERVICE_ACCOUNT_NAMESPACE.read_text().strip()
    contexts, active = kubeconfig_loader.list_kube_config_contexts(config_file=kubeconfig)
    if context:
        active = next(c for c in contexts if c["name"] == context)
    return configuration, active.get("context", {}).get("namespace") or "default"


class Client:
    """A connection to one cluster's studio.dev API.

    `Client()` reads the kubeconfig as kubectl does (else the pod's service account);
    `Client(kubeconfig=path, context=name)` picks a file and context. `namespace` is where
    namespaced calls go by default (else the context's namespace, else `default`);
    `operator_namespace` is where the operator runs its image builds.
    """

    def __init__(
        self,
        kubeconfig: str | None = None,
        context: str | None = None,
        *,
        namespace: str | None = None,
        operator_namespace: str = OPERATOR_NAMESPACE,
    ):
        configuration, default_namespace = _load(kubeconfig, context)
        self.api_client = k8s.ApiClient(configuration)
        self.namespace = namespace or default_namespace
        self.operator_namespace = operator_namespace
        self._apis: dict[type, object] = {}

    def api(self, cls: type[A]) -> A:
        """One of the kubernetes client's API classes (CoreV1Api, RbacAuthorizationV1Api, ...), on this connection."""
        if cls not in self._apis:
            self._apis[cls] = cls(self.api_client)
        return self._apis[cls]

    def request(self, method: str, path: str, query: dict[str, str] | None = None, body: Any = None,
                content_type: str = "application/json") -> dict[str, Any]:
        """A plain API call, its JSON answer decoded. The built-in kinds doctor reads go this way
        rather than through the typed API classes, whose import alone takes up to a second (CoreV1Api, measured)."""
        with api_errors():
            method, url, headers, _, _ = self.api_client.param_serialize(
                method, path, query_params=list((query or {}).items()),
                header_params={"Accept": "application/json", "Content-Type": content_type}, auth_settings=["BearerToken"],
            )
            response = self.api_client.call_api(method, url, headers, None if body is None else json.dumps(body))
            response.read()
            if response.status >= 400:
                raise ApiException(status=response.status, reason=response.reason, body=response.data)
        return json.loads(response.data or b"{}")

    def objects(self, kind: Kind) -> Objects:
        return Objects(self.api(k8s.CustomObjectsApi), kind)

    @property
    def server(self) -> str:
        return self.api_client.configuration.host

    @property
    def workspaces(self) -> Workspaces:
        """Every Workspace: iterate, `len()`, `get(name)`, `create(...)`, `delete(name)`."""
        return Workspaces(self)

    @property
    def templates(self) -> Templates:
        """Every CodeStudioTemplate: iterate, `len()`, `get(name)`."""
        return Templates(self)

    def code_studios(
        self,
        namespace: str | None = None,
        *,
        owner: str | None = None,
        state: str | None = None,
        template: str | None = None,
    ) -> list[CodeStudio]:
        """CodeStudios in namespace (all namespaces when None), filtered by owner, status state and template."""
        objs = self.objects(CODE_STUDIOS).list(namespace)
        return [CodeStudio(self, obj) for obj in filter_studios(objs, owner=owner, state=state, template=template)]

    def code_studio(self, name: str, namespace: str | None = None) -> CodeStudio | None:
        """The CodeStudio name in namespace (default: the client's), or None with a warning."""
        return CodeStudio.lookup(self, name, namespace or self.namespace)
