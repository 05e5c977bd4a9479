"""Types shared by the three kinds: conditions, quantities, resources, environment."""

from __future__ import annotations

from typing import Annotated, Literal

from kube_custom_resource import CustomResource, schema
from kube_custom_resource.custom_resource import Metadata
from pydantic import Field

GROUP = "studio.dev"
VERSION = "v1alpha1"
API_VERSION = f"{GROUP}/{VERSION}"

# The operator's own namespace in a default install; never a workspace namespace.
OPERATOR_NAMESPACE = "studio-system"

QUANTITY_PATTERN = r"^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$"
DNS_LABEL_PATTERN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
DNS_SUBDOMAIN_PATTERN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
DURATION_PATTERN = r"^(0|([0-9]+(\.[0-9]+)?(ms|s|m|h))+)$"
ENV_NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"
RFC3339 = {"format": "date-time"}

# A Kubernetes quantity written as a string ("500m", "2Gi") or a number (2).
Quantity = Annotated[
    schema.IntOrString,
    Field(json_schema_extra={"pattern": QUANTITY_PATTERN}),
]
# A storage size: always a string such as "10Gi", so CEL can compare sizes.
StorageSize = Annotated[str, Field(pattern=QUANTITY_PATTERN, max_length=32)]
Duration = Annotated[str, Field(pattern=DURATION_PATTERN, max_length=32)]
Timestamp = Annotated[str, Field(max_length=64, json_schema_extra=RFC3339)]

ConditionStatus = Literal["True", "False", "Unknown"]


class Model(schema.BaseModel):
    """Base of every API model: camelCase on the wire, unknown fields ignored when read."""

    def to_dict(self) -> dict:
        """The object as the API server stores it: camelCase, unset fields left out."""
        return self.model_dump(mode="json", exclude_none=True)


class Condition(Model):
    """The state of one aspect of the object, as in the Kubernetes API conventions."""

    type: str = Field(description="Type of condition in CamelCase, e.g. Ready.", max_length=64)
    status: ConditionStatus = Field(description="True, False or Unknown.")
    reason: str = Field(
        "", description="Machine-readable CamelCase reason for the condition's last transition.", max_length=128
    )
    message: str = Field(
        "", description="Human-readable explanation, saying what to fix when status is False.", max_length=4096
    )
    last_transition_time: Timestamp | None = Field(
        None, description="When the condition last changed status (RFC 3339)."
    )
    observed_generation: int | None = Field(
        None, description="The metadata.generation the condition was computed from.", ge=0
    )


Conditions = Annotated[
    list[Condition],
    Field(
        default_factory=list,
        description="Observed conditions; Ready summarises the others.",
        max_length=32,
        json_schema_extra={"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"]},
    ),
]


class ResourceRequirements(Model):
    """Compute resources, as in a container's `resources`."""

    requests: dict[str, Quantity] = Field(
        default_factory=dict,
        description="Minimum resources guaranteed, e.g. {cpu: 500m, memory: 1Gi}.",
        json_schema_extra={"maxProperties": 16},
    )
    limits: dict[str, Quantity] = Field(
        default_factory=dict,
        description="Maximum resources allowed, e.g. {cpu: 2, memory: 4Gi, nvidia.com/gpu: 1}.",
        json_schema_extra={"maxProperties": 16},
    )


class EnvVar(Model):
    """An environment variable set in the studio's container."""

    name: str = Field(description="Variable name, a C identifier.", pattern=ENV_NAME_PATTERN, max_length=256)
    value: str = Field("", description="Literal value.", max_length=32768)


EnvList = Annotated[
    list[EnvVar],
    Field(
        default_factory=list,
        description="Environment variables; a later source overrides an earlier one by name.",
        max_length=128,
        json_schema_extra={"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"]},
    ),
]


class LocalObjectReference(Model):
    """A reference to an object in the same namespace."""

    name: str = Field(description="Name of the object.", pattern=DNS_SUBDOMAIN_PATTERN, max_length=253)


class ObjectMeta(Metadata):
    """Object metadata as the operator reads it (kube-custom-resource's, plus generation)."""

    generation: int | None = Field(None, description="Sequence number of the spec.")


class Resource(CustomResource, abstract=True):
    """Base of the three kinds."""

    metadata: ObjectMeta = Field(description="Standard object metadata.")
