"""Types shared by the three kinds: conditions, quantities, resources, environment."""

from __future__ import annotations

import dataclasses
import re
from typing import Annotated, Any, Literal

from kube_custom_resource import CustomResource, schema
from kube_custom_resource.custom_resource import Metadata
from pydantic import AfterValidator, Field, GetJsonSchemaHandler, StringConstraints
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

GROUP = "studio.dev"
VERSION = "v1alpha1"
API_VERSION = f"{GROUP}/{VERSION}"

# The operator's own namespace in a default install; never a workspace namespace.
OPERATOR_NAMESPACE = "studio-system"

# Kubernetes quantities without a minus: no request, limit, quota or size is negative.
QUANTITY_PATTERN = r"^\+?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$"
DNS_LABEL_PATTERN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
DNS_SUBDOMAIN_PATTERN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
DURATION_PATTERN = r"^(0|([0-9]+(\.[0-9]+)?(ms|s|m|h))+)$"
ENV_NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"
RFC3339 = {"format": "date-time"}


@dataclasses.dataclass(frozen=True)
class Rule:
    """Annotated metadata: a CEL rule (x-kubernetes-validations) on the type's CRD schema.

    The API server reports a failed rule as `<field path>: Invalid value: <value>: <message>`,
    so the message says only what would be accepted.
    """

    rule: str
    message: str

    def __get_pydantic_json_schema__(self, core_schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        schema = handler(core_schema)
        schema.setdefault("x-kubernetes-validations", []).append({"rule": self.rule, "message": self.message})
        return schema


@dataclasses.dataclass(frozen=True)
class _PatternAsRule(Rule):
    """A Rule that replaces the OpenAPI `pattern` it restates: the API server's error for a
    failed `pattern` is the bare regular expression, and a failed pattern stops CEL rules."""

    def __get_pydantic_json_schema__(self, core_schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        schema = super().__get_pydantic_json_schema__(core_schema, handler)
        schema.pop("pattern")
        return schema


def formatted(pattern: str, max_length: int, message: str) -> Any:
    """A string matching `pattern`: pydantic checks it in Python, a CEL rule in the API server."""
    assert "'" not in pattern, "the pattern goes into a single-quoted CEL raw string"
    return Annotated[
        str,
        StringConstraints(pattern=pattern, max_length=max_length),
        _PatternAsRule(f"self.matches(r'{pattern}')", message),
    ]


DNSLabel = formatted(
    DNS_LABEL_PATTERN,
    63,
    "must be a DNS label: lowercase letters, digits and '-', starting and ending with a letter or digit, e.g. team-a",
)
DNSSubdomain = formatted(
    DNS_SUBDOMAIN_PATTERN,
    253,
    "must be a DNS subdomain: lowercase letters, digits, '-' and '.', starting and ending with a letter or digit",
)
# Template names are label values (studio.dev/template on build Jobs and studio pods): 63 at most.
TemplateName = formatted(
    DNS_SUBDOMAIN_PATTERN,
    63,
    "must name a CodeStudioTemplate: at most 63 lowercase letters, digits, '-' and '.', starting and ending with a "
    "letter or digit",
)
EnvName = formatted(
    ENV_NAME_PATTERN, 256, "must be a C identifier: letters, digits and '_', not starting with a digit, e.g. MY_VAR"
)
Duration = formatted(DURATION_PATTERN, 32, "must be a duration such as 90s, 30m, 2h or 1h30m; 0 means never")


def _check_quantity(value: str) -> str:
    if not re.match(QUANTITY_PATTERN, value):
        raise ValueError(f"{value!r} is not a non-negative Kubernetes quantity, e.g. 500m, 2 or 4Gi")
    return value


# A Kubernetes quantity written as a string ("500m", "2Gi") or a number (2). The API server
# parses it as Kubernetes does (isQuantity); maxLength bounds the rule's estimated CEL cost.
Quantity = Annotated[
    schema.IntOrString,
    AfterValidator(_check_quantity),
    Field(json_schema_extra={"maxLength": 64}),
    Rule(
        "type(self) == int ? self >= 0 : isQuantity(self) && !quantity(self).isLessThan(quantity('0'))",
        "must be a non-negative Kubernetes quantity, e.g. 500m, 2 or 4Gi",
    ),
]
# A storage size: always a string such as "10Gi", so CEL can compare sizes.
StorageSize = Annotated[
    str,
    StringConstraints(pattern=QUANTITY_PATTERN, max_length=32),
    _PatternAsRule(
        "isQuantity(self) && quantity(self).isGreaterThan(quantity('0'))", "must be a size such as 10Gi or 500Mi"
    ),
]
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

    name: EnvName = Field(description="Variable name, a C identifier.")
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

    name: DNSSubdomain = Field(description="Name of the object.")


class ObjectMeta(Metadata):
    """Object metadata as the operator reads it (kube-custom-resource's, plus generation)."""

    generation: int | None = Field(None, description="Sequence number of the spec.")


class Resource(CustomResource, abstract=True):
    """Base of the three kinds."""

    metadata: ObjectMeta = Field(description="Standard object metadata.")
