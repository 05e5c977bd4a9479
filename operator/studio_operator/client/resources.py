"""Reads and writes of the three custom resources as plain dicts, with the SDK's errors."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from kubernetes import client as k8s

from ..api import GROUP, VERSION, CodeStudio, CodeStudioTemplate, Workspace
from .errors import Conflict, api_errors

# Recorded in managedFields, so `kubectl get -o yaml --show-managed-fields` shows who changed what.
FIELD_MANAGER = "studioctl"
MERGE_PATCH = "application/merge-patch+json"
CRDS_MISSING = "are the studio.dev CRDs installed?"


@dataclasses.dataclass(frozen=True)
class Kind:
    model: type
    plural: str
    namespaced: bool

    @property
    def name(self) -> str:
        return self.model.__name__

    def body(self, name: str, spec: dict[str, Any], namespace: str | None = None) -> dict[str, Any]:
        metadata = {"name": name, **({"namespace": namespace} if self.namespaced and namespace else {})}
        return {"apiVersion": f"{GROUP}/{VERSION}", "kind": self.name, "metadata": metadata, "spec": spec}


WORKSPACES = Kind(Workspace, "workspaces", namespaced=False)
CODE_STUDIOS = Kind(CodeStudio, "codestudios", namespaced=True)
TEMPLATES = Kind(CodeStudioTemplate, "codestudiotemplates", namespaced=False)


class Objects:
    """get/list/create/patch/update/delete of one kind; namespace is ignored for cluster-scoped kinds."""

    def __init__(self, api: k8s.CustomObjectsApi, kind: Kind):
        self.api = api
        self.kind = kind

    def _call(self, verb: str, namespace: str | None, *args: Any, **kwargs: Any) -> Any:
        with api_errors(CRDS_MISSING):
            if self.kind.namespaced:
                method = getattr(self.api, f"{verb}_namespaced_custom_object")
                return method(GROUP, VERSION, namespace, self.kind.plural, *args, **kwargs)
            method = getattr(self.api, f"{verb}_cluster_custom_object")
            return method(GROUP, VERSION, self.kind.plural, *args, **kwargs)

    def get(self, name: str, namespace: str | None = None) -> dict[str, Any]:
        return self._call("get", namespace, name)

    def list(self, namespace: str | None = None) -> list[dict[str, Any]]:
        """Every object, or those in namespace; None lists a namespaced kind across all namespaces."""
        if self.kind.namespaced and namespace is None:
            with api_errors(CRDS_MISSING):
                result = self.api.list_cluster_custom_object(GROUP, VERSION, self.kind.plural)
        else:
            result = self._call("list", namespace)
        return sorted(result["items"], key=lambda o: (o["metadata"].get("namespace", ""), o["metadata"]["name"]))

    def create(self, body: dict[str, Any], dry_run: bool = False) -> dict[str, Any]:
        """Creates body; dry_run runs validation and admission only, storing nothing."""
        return self._call("create", body["metadata"].get("namespace"), body, field_manager=FIELD_MANAGER,
                          dry_run="All" if dry_run else None)

    def patch(self, name: str, patch: dict[str, Any], namespace: str | None = None) -> dict[str, Any]:
        """A JSON merge patch: the fields given replace the stored ones, lists as a whole."""
        return self._call("patch", namespace, name, patch, field_manager=FIELD_MANAGER, _content_type=MERGE_PATCH)

    def update(
        self, name: str, mutate: Callable[[dict[str, Any]], None], namespace: str | None = None, attempts: int = 5
    ) -> dict[str, Any]:
        """Read, change, write back under the read resourceVersion; again when someone else wrote first.

        For list edits (members), where a merge patch would overwrite a concurrent change.
        """
        for _ in range(attempts):
            obj = self.get(name, namespace)
            mutate(obj)
            try:
                return self._call("replace", namespace, name, obj, field_manager=FIELD_MANAGER)
            except Conflict:
                continue
        raise Conflict(f"{self.kind.name} {name} kept changing under us; tried {attempts} times")

    def delete(self, name: str, namespace: str | None = None) -> None:
        self._call("delete", namespace, name)
