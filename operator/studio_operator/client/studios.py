"""CodeStudio handles: settings, status, start/stop/restart as futures, and a change of owner."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from .. import api
from ..conditions import now, parse_time, rfc3339
from ..labels import LAST_ACTIVITY
from .errors import NotFound, warn_missing
from .handle import Handle
from .operations import Operation, status_reached
from .portforward import PortForward
from .resources import CODE_STUDIOS

if TYPE_CHECKING:
    from .connection import Client


def filter_studios(
    objs: Iterable[dict[str, Any]], owner: str | None = None, state: str | None = None, template: str | None = None
) -> list[dict[str, Any]]:
    """The studios matching every filter given: spec.owner, status.state, spec.template."""
    return [
        o
        for o in objs
        if (owner is None or o.get("spec", {}).get("owner") == owner)
        and (state is None or (o.get("status") or {}).get("state") == state)
        and (template is None or o.get("spec", {}).get("template") == template)
    ]


def next_restart_time(previous: str | None, at: datetime.datetime) -> str:
    """An RFC 3339 time newer than previous: the operator restarts only for a newer request,
    and times have one-second resolution, so two restarts within a second must not collide."""
    last = parse_time(previous)
    if last is not None and last >= at.replace(microsecond=0):
        at = last + datetime.timedelta(seconds=1)
    return rfc3339(at)


class CodeStudio(Handle[api.CodeStudio]):
    """One CodeStudio; `info()` is the whole object."""

    kind = CODE_STUDIOS

    @classmethod
    def lookup(cls, client: Client, name: str, namespace: str) -> CodeStudio | None:
        try:
            return cls(client, client.objects(CODE_STUDIOS).get(name, namespace))
        except NotFound:
            warn_missing(f"CodeStudio {namespace}/{name}")
            return None

    @property
    def namespace(self) -> str:
        return self.raw["metadata"]["namespace"]

    def get_settings(self) -> api.CodeStudioSpec:
        return self.info().spec

    def get_status(self) -> api.CodeStudioStatus:
        """The observed state: `.state`, `.last_state_change`, `.message`, `.endpoints`, ..."""
        return self.info().status

    def _patch_spec(self, **fields: Any) -> dict[str, Any]:
        self.raw = self._objects().patch(self.name, {"spec": fields}, self.namespace)
        return self.raw

    def _until(self, target: str, also=None) -> Operation[api.CodeStudioStatus]:
        """A future done once the operator reports state target for the generation last written."""
        judge = status_reached(f"CodeStudio {self.namespace}/{self.name}", "state", target,
                               self.raw["metadata"]["generation"], api.CodeStudioStatus.model_validate, also)
        return Operation(f"CodeStudio {self.namespace}/{self.name} to be {target}", self._read, judge)

    def start(self) -> Operation[api.CodeStudioStatus]:
        """Sets spec.state to Running; the future's result is the status once Running."""
        self._patch_spec(state="Running")
        return self._until("Running")

    def stop(self) -> Operation[api.CodeStudioStatus]:
        """Sets spec.state to Stopped (the pod goes, the volume stays); done once Stopped."""
        self._patch_spec(state="Stopped")
        return self._until("Stopped")

    def restart(self) -> Operation[api.CodeStudioStatus]:
        """Asks for a new pod with the template's current image, as `kubectl rollout restart` does;
        done once the operator has carried out this restart and the studio is back in its state."""
        current = self._read()
        requested = next_restart_time(current["spec"].get("restartRequestedAt"), now())
        obj = self._patch_spec(restartRequestedAt=requested)

        def carried_out(status: dict[str, Any]) -> bool:
            done = parse_time(status.get("restartedAt"))
            return done is not None and done >= parse_time(requested)

        return self._until(obj["spec"].get("state", "Running"), carried_out)

    def change_owner(self, owner: str) -> api.CodeStudioSpec:
        """Gives the studio to another login; admission allows it to the owner, workspace owners
        and admins, and cluster admins. Returns the new settings."""
        return api.CodeStudio.model_validate(self._patch_spec(owner=owner)).spec

    def report_activity(self, at: datetime.datetime | None = None) -> None:
        """Tells the operator the studio is in use (its studio.dev/last-activity annotation), so
        its idle timeout counts from `at` (default now)."""
        self._objects().patch(self.name, {"metadata": {"annotations": {LAST_ACTIVITY: rfc3339(at or now())}}},
                              self.namespace)

    def port_forward(self, local_port: int = 0, address: str = "127.0.0.1") -> PortForward:
        """Forwards a local port to the studio's main port (the template's first), reporting
        activity while it carries traffic; see PortForward."""
        return PortForward.to_studio(self._client, self._read(), local_port, address, on_activity=self.report_activity)
