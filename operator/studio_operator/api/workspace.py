"""Workspace: a team's namespace, members, quota and defaults (cluster-scoped)."""

from __future__ import annotations

from typing import Annotated, Literal

from kube_custom_resource import Scope
from pydantic import Field

from .common import (
    Resource,
    DNS_LABEL_PATTERN,
    DNS_SUBDOMAIN_PATTERN,
    OPERATOR_NAMESPACE,
    VERSION,
    Conditions,
    DNSLabel,
    DNSSubdomain,
    Model,
    Quantity,
    ResourceRequirements,
    Rule,
    StorageSize,
)

MemberKind = Literal["User", "Group", "ServiceAccount"]
MemberRole = Literal["owner", "admin", "member", "viewer"]
WorkspaceState = Literal["Active", "Stopped"]
DeletionPolicy = Literal["Protect", "Cascade"]
WorkspacePhase = Literal["Pending", "Active", "Stopping", "Stopped", "Terminating", "Failed"]

# The API server refuses a RoleBinding whose ServiceAccount subject has any other name.
SERVICE_ACCOUNT_NAME_MESSAGE = ("a ServiceAccount member's name must be a DNS subdomain: lowercase letters, digits, "
                                "'-' and '.', starting and ending with a letter or digit")

RESERVED_NAMESPACES = ("default", OPERATOR_NAMESPACE)
RESERVED_MESSAGE = f"must not be default, kube-* or {OPERATOR_NAMESPACE}: those namespaces are reserved"


def _not_reserved(value: str) -> str:
    """CEL: the string `value` names no reserved namespace."""
    return f"!({value} in {list(RESERVED_NAMESPACES)!r}) && !{value}.startsWith('kube-')"


def _namespace_of(obj: str) -> str:
    """CEL: the namespace a Workspace `obj` owns (`namespace` is a CEL keyword, hence __namespace__)."""
    return f"(has({obj}.spec.__namespace__) ? {obj}.spec.__namespace__ : {obj}.metadata.name)"


WorkspaceNamespace = Annotated[DNSLabel, Rule(_not_reserved("self"), RESERVED_MESSAGE)]


class Member(Model):
    """A user, group or service account and its role in the workspace."""

    model_config = {
        "json_schema_extra": {
            "x-kubernetes-validations": [
                {
                    "rule": "self.kind != 'ServiceAccount' || has(self.__namespace__)",
                    "message": "a ServiceAccount member needs namespace",
                    "fieldPath": ".namespace",
                },
                {
                    "rule": "self.kind == 'ServiceAccount' || !has(self.__namespace__)",
                    "message": "namespace is only for ServiceAccount members",
                    "fieldPath": ".namespace",
                },
                {
                    "rule": f"self.kind != 'ServiceAccount' || self.name.matches(r'{DNS_SUBDOMAIN_PATTERN}')",
                    "message": SERVICE_ACCOUNT_NAME_MESSAGE,
                    "fieldPath": ".name",
                },
            ]
        }
    }

    kind: MemberKind = Field("User", description="User, Group or ServiceAccount.")
    name: str = Field(description="The user's login, the group's or the service account's name.", min_length=1, max_length=253)
    namespace: DNSLabel | None = Field(None, description="Namespace of a ServiceAccount member.")
    role: MemberRole = Field(
        "member",
        description=(
            "owner: manages the workspace and everything in it; admin: manages every studio; "
            "member: creates studios and uses their own; viewer: reads."
        ),
    )


class WorkspaceQuota(Model):
    """Limits on what the workspace may hold. Unset means unlimited."""

    max_code_studios: int | None = Field(None, description="How many CodeStudios may exist.", ge=0, le=100000)
    max_running_code_studios: int | None = Field(
        None, description="How many CodeStudios may be Running at once.", ge=0, le=100000
    )
    cpu: Quantity | None = Field(None, description="Total CPU requests of the workspace's pods, e.g. 16.")
    memory: Quantity | None = Field(None, description="Total memory requests of the workspace's pods, e.g. 64Gi.")
    storage: Quantity | None = Field(None, description="Total storage requested by the workspace's volumes, e.g. 1Ti.")
    gpu: Quantity | None = Field(None, description="Total nvidia.com/gpu requests of the workspace's pods.")


class WorkspaceDefaults(Model):
    """Defaults for studios in this workspace, used when neither studio nor template sets them."""

    storage_class_name: DNSSubdomain | None = Field(
        None, description="StorageClass of studio volumes (else the cluster default)."
    )
    storage_size: StorageSize | None = Field(None, description="Size of a studio's home volume, e.g. 20Gi.")
    resources: ResourceRequirements | None = Field(None, description="Compute resources of a studio.")


class WorkspaceSpec(Model):
    """Desired state of a Workspace."""

    display_name: str | None = Field(None, description="Human-readable name.", max_length=256)
    tier: str | None = Field(None, description="Free-text tier, shown in status and printer columns.", max_length=64)
    namespace: WorkspaceNamespace | None = Field(
        None,
        description=(
            "Namespace the workspace owns; defaults to the workspace name; immutable. Never default, "
            "kube-* or the operator's namespace; a namespace the operator did not create is not adopted."
        ),
    )
    members: list[Member] = Field(
        default_factory=list,
        description="Who may use the workspace, each with a role.",
        max_length=256,
        json_schema_extra={"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["kind", "name"]},
    )
    quota: WorkspaceQuota | None = Field(None, description="Limits; becomes a ResourceQuota plus studio-count checks.")
    defaults: WorkspaceDefaults | None = Field(None, description="Defaults for studios in the workspace.")
    state: WorkspaceState = Field(
        "Active",
        description="Active lets studios run; Stopped stops every studio and keeps every volume.",
    )
    deletion_policy: DeletionPolicy = Field(
        "Protect",
        description=(
            "Protect refuses to delete the workspace while it holds studios; "
            "Cascade deletes the studios (their volumes follow their reclaim policy), then the namespace."
        ),
    )


class StudioCounts(Model):
    """How many CodeStudios the workspace holds."""

    total: int = Field(0, description="All studios.", ge=0)
    running: int = Field(0, description="Studios in state Running.", ge=0)
    stopped: int = Field(0, description="Studios in state Stopped.", ge=0)


class WorkspaceStatus(Model):
    """Observed state of a Workspace."""

    observed_generation: int | None = Field(None, description="The metadata.generation last reconciled.", ge=0)
    phase: WorkspacePhase | None = Field(None, description="Pending, Active, Stopping, Stopped, Terminating or Failed.")
    namespace: str | None = Field(None, description="The namespace in use.", max_length=63)
    tier: str | None = Field(None, description="The tier from spec.", max_length=64)
    members: int | None = Field(None, description="How many members are bound.", ge=0)
    code_studios: StudioCounts | None = Field(None, description="Studio counts.")
    usage: dict[str, Quantity] = Field(
        default_factory=dict,
        description="Quota usage, from the workspace's ResourceQuota.",
        json_schema_extra={"maxProperties": 32},
    )
    conditions: Conditions


class Workspace(
    Resource,
    version=VERSION,
    scope=Scope.CLUSTER,
    short_names=["ws"],
    subresources={"status": {}},
    printer_columns=[
        {"name": "Phase", "type": "string", "jsonPath": ".status.phase"},
        {"name": "Namespace", "type": "string", "jsonPath": ".status.namespace"},
        {"name": "Studios", "type": "integer", "jsonPath": ".status.codeStudios.total"},
        {"name": "Tier", "type": "string", "jsonPath": ".spec.tier"},
        {"name": "Ready", "type": "string", "jsonPath": '.status.conditions[?(@.type=="Ready")].status'},
    ],
):
    """A team's space: one namespace with its members' roles, quota and studio defaults."""

    # spec.namespace defaults to the name, so without it the name must be a usable namespace; and
    # the namespace is immutable, though writing out the default (or dropping it) changes nothing.
    # Rules on the root, as only the root sees metadata.name.
    model_config = {
        "json_schema_extra": {
            "x-kubernetes-validations": [
                {
                    "rule": (
                        "has(self.spec.__namespace__) || (size(self.metadata.name) <= 63 && "
                        f"self.metadata.name.matches(r'{DNS_LABEL_PATTERN}') && {_not_reserved('self.metadata.name')})"
                    ),
                    "message": (
                        "metadata.name is the namespace when spec.namespace is not set, so it must be a DNS label "
                        f"of at most 63 characters and {RESERVED_MESSAGE}; rename the workspace or set spec.namespace"
                    ),
                },
                {
                    "rule": f"{_namespace_of('self')} == {_namespace_of('oldSelf')}",
                    "message": "spec.namespace is immutable",
                    "messageExpression": f"'is immutable: the workspace keeps namespace ' + {_namespace_of('oldSelf')}",
                    "fieldPath": ".spec.namespace",
                },
            ]
        }
    }

    spec: WorkspaceSpec = Field(
        default_factory=WorkspaceSpec, json_schema_extra={"default": {}}
    )
    status: WorkspaceStatus = Field(default_factory=WorkspaceStatus)
