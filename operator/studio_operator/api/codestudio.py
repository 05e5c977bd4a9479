"""CodeStudio: one person's running environment in a workspace's namespace."""

from __future__ import annotations

from typing import Literal

from kube_custom_resource import Scope
from pydantic import Field

from .common import (
    Resource,
    VERSION,
    TemplateName,
    Conditions,
    Duration,
    EnvList,
    Model,
    ResourceRequirements,
    StorageSize,
    Timestamp,
)

DesiredState = Literal["Running", "Stopped"]
StudioState = Literal["Stopped", "Starting", "Running", "Stopping", "Failed"]
ReclaimPolicy = Literal["Retain", "Delete"]

# A studio's name is its pod's, its Service's and a label value: a DNS-1035 label.
NAME_PATTERN = r"^[a-z]([-a-z0-9]*[a-z0-9])?$"


class StudioStorage(Model):
    """The studio's home volume."""

    size: StorageSize | None = Field(None, description="Size of the home volume (else the template's); may grow, never shrink.")


class CodeStudioSpec(Model):
    """Desired state of a CodeStudio."""

    # On spec rather than storage: removing storage (or its size) must not shrink the volume either.
    model_config = {
        "json_schema_extra": {
            "x-kubernetes-validations": [
                {
                    "rule": (
                        "!has(oldSelf.storage) || !has(oldSelf.storage.size) || "
                        "(has(self.storage) && has(self.storage.size) && (!isQuantity(self.storage.size) || "
                        "quantity(self.storage.size).compareTo(quantity(oldSelf.storage.size)) >= 0))"
                    ),
                    "message": "spec.storage.size may grow but never shrink",
                    "messageExpression": "'may grow but never shrink below its current ' + oldSelf.storage.size",
                    "fieldPath": ".storage.size",
                }
            ]
        }
    }

    template: TemplateName = Field(description="Name of the CodeStudioTemplate the studio is made from.")
    owner: str | None = Field(
        None,
        description=(
            "Login of the person the studio belongs to; defaults to the creating user. Only the owner "
            "may exec, attach, port-forward and proxy into the studio."
        ),
        min_length=1,
        max_length=253,
    )
    state: DesiredState = Field("Running", description="Running or Stopped.")
    restart_requested_at: Timestamp | None = Field(
        None, description="RFC 3339 time; setting a newer value restarts the studio, as kubectl rollout restart does."
    )
    resources: ResourceRequirements | None = Field(None, description="Compute resources (else the template's, else the workspace's).")
    env: EnvList
    storage: StudioStorage | None = Field(None, description="The home volume.")
    idle_timeout: Duration | None = Field(None, description="Stop the studio after this long without activity (else the template's); 0 never stops it.")
    volume_reclaim_policy: ReclaimPolicy = Field(
        "Retain",
        description="Retain keeps the home volume when the studio is deleted; Delete removes it with the studio.",
    )


class VolumeStatus(Model):
    """The home volume as observed."""

    claim_name: str | None = Field(None, description="Name of the PersistentVolumeClaim.", max_length=253)
    phase: str | None = Field(None, description="Pending, Bound or Lost.", max_length=32)
    capacity: str | None = Field(None, description="Provisioned size.", max_length=32)


class Endpoint(Model):
    """An in-cluster URL of one of the studio's ports."""

    name: str = Field(description="Port name.", max_length=15)
    url: str = Field(description="In-cluster URL.", max_length=512)


class CodeStudioStatus(Model):
    """Observed state of a CodeStudio."""

    observed_generation: int | None = Field(None, description="The metadata.generation last reconciled.", ge=0)
    state: StudioState | None = Field(None, description="Stopped, Starting, Running, Stopping or Failed.")
    last_state_change: Timestamp | None = Field(None, description="When state last changed.")
    message: str | None = Field(None, description="Why the studio is in its state; what to fix when Failed.", max_length=4096)
    owner: str | None = Field(None, description="The owner the studio's access rules grant.", max_length=253)
    image: str | None = Field(None, description="The image the studio's pod runs.", max_length=512)
    pending_restart: bool | None = Field(None, description="The template has a newer image than the running pod.")
    restarted_at: Timestamp | None = Field(None, description="The restartRequestedAt last carried out.")
    pod: str | None = Field(None, description="Name of the studio's pod.", max_length=253)
    volume: VolumeStatus | None = Field(None, description="The home volume.")
    endpoints: list[Endpoint] = Field(default_factory=list, description="In-cluster URLs of the studio's ports.", max_length=16)
    last_activity: Timestamp | None = Field(
        None, description="Last use: the latest of the pod's start and the studio.dev/last-activity annotation clients report."
    )
    conditions: Conditions


class CodeStudio(
    Resource,
    version=VERSION,
    scope=Scope.NAMESPACED,
    short_names=["studio"],
    subresources={"status": {}},
    printer_columns=[
        {"name": "State", "type": "string", "jsonPath": ".status.state"},
        {"name": "Owner", "type": "string", "jsonPath": ".spec.owner"},
        {"name": "Template", "type": "string", "jsonPath": ".spec.template"},
        {"name": "Ready", "type": "string", "jsonPath": '.status.conditions[?(@.type=="Ready")].status'},
    ],
):
    """One person's long-lived development environment: a pod on a persistent home volume."""

    model_config = {
        "json_schema_extra": {
            "x-kubernetes-validations": [
                {
                    "rule": f"size(self.metadata.name) <= 63 && self.metadata.name.matches(r'{NAME_PATTERN}')",
                    "message": (
                        "metadata.name names the studio's pod and Service, so it must be a DNS-1035 label: at most "
                        "63 lowercase letters, digits and '-', starting with a letter and ending with a letter or digit"
                    ),
                }
            ]
        }
    }

    spec: CodeStudioSpec
    # What the API server shows a new studio until the operator first writes its status, as it
    # shows a new Pod Pending: a start that settles quickly then writes once (docs/decisions/0031).
    status: CodeStudioStatus = Field(default_factory=CodeStudioStatus, json_schema_extra={"default": {"state": "Starting"}})
