"""CodeStudioTemplates: the collection and a handle with build status and build logs."""

from __future__ import annotations

from kubernetes import client as k8s

from .. import api
from ..api.template import BuildStatus
from .collection import Collection
from .errors import NotFound, StudioError, api_errors
from .handle import Handle
from .resources import TEMPLATES


class Template(Handle[api.CodeStudioTemplate]):
    """One CodeStudioTemplate; `info()` is the whole object."""

    kind = TEMPLATES

    def build_status(self) -> BuildStatus | None:
        """The latest image build (`.phase`, `.job`, `.message`, ...); None for a prebuilt image
        or before the operator has looked at the template."""
        return self.info().status.build

    def logs(self, tail_lines: int | None = None) -> str:
        """The log of the latest build's pod (in the operator's namespace); with tail_lines, only
        its last tail_lines lines (0: none, as `kubectl logs --tail=0`)."""
        template = self.info()
        if template.spec.image.build is None:
            raise StudioError(f"template {self.name} uses a prebuilt image; it has no build")
        build = template.status.build
        if build is None or not build.job:
            raise NotFound(f"template {self.name} has no build yet")
        core = self._client.api(k8s.CoreV1Api)
        namespace = self._client.operator_namespace
        with api_errors():
            pods = core.list_namespaced_pod(namespace, label_selector=f"job-name={build.job}").items
        if not pods:
            hint = f"; the operator recorded: {build.message}" if build.message else ""
            raise NotFound(f"build job {namespace}/{build.job} has no pods left{hint}")
        newest = max(pods, key=lambda p: p.metadata.creation_timestamp)
        kwargs = {"tail_lines": tail_lines} if tail_lines is not None else {}
        with api_errors():
            return core.read_namespaced_pod_log(newest.metadata.name, namespace, **kwargs)


class Templates(Collection[Template]):
    """Every CodeStudioTemplate in the cluster: iterate, `len()`, `name in`, `get(name)`."""

    handle = Template
