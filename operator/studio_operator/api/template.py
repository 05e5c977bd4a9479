"""CodeStudioTemplate: what a studio is made of, prebuilt or built into an image (cluster-scoped)."""

from __future__ import annotations

from typing import Annotated, Literal

from kube_custom_resource import Scope
from pydantic import Field, StringConstraints

from .common import (
    Resource,
    VERSION,
    Conditions,
    Duration,
    EnvList,
    LocalObjectReference,
    Model,
    ResourceRequirements,
    StorageSize,
    Timestamp,
    formatted,
)

# The tag's word characters are ASCII, as in the reference grammar and in the CEL rule (RE2's \w):
# a Unicode \w let pydantic accept tags the API server refuses, and its compiled automaton cost
# every process that imports the models 12 MiB of resident memory (bench/README.md).
IMAGE_REF_PATTERN = r"^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(/[a-z0-9]+([._-]{1,2}[a-z0-9]+)*)*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@sha256:[a-f0-9]{64})?$"
REPOSITORY_PATTERN = r"^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(/[a-z0-9]+([._-]{1,2}[a-z0-9]+)*)+$"
# Debian package names, optionally pinned: "git", "python3-venv=3.11.2-1".
APT_PACKAGE_PATTERN = r"^[a-z0-9][a-z0-9+.-]*(=[A-Za-z0-9.+~:-]+)?$"
# IANA service names, as Kubernetes checks port names: segments joined by single '-', one with a letter.
PORT_NAME_PATTERN = r"^([a-z0-9]+-)*[a-z0-9]*[a-z][a-z0-9]*(-[a-z0-9]+)*$"
# A PEP 508 name with optional extras and version specifiers; no spaces, quotes or shell characters.
PIP_PACKAGE_PATTERN = r"^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?(\[[A-Za-z0-9._-]+(,[A-Za-z0-9._-]+)*\])?((==|!=|>=|<=|~=|>|<)[A-Za-z0-9.*+!]+(,(==|!=|>=|<=|~=|>|<)[A-Za-z0-9.*+!]+)*)?$"

ImageRef = formatted(
    IMAGE_REF_PATTERN,
    255,
    "must be an image reference such as python:3.12-slim or registry.example.com/team/ide@sha256:<64 hex digits>",
)
Repository = formatted(
    REPOSITORY_PATTERN, 255, "must be an image repository without tag, e.g. registry.example.com/studios/python"
)
AptPackage = formatted(
    APT_PACKAGE_PATTERN,
    128,
    "must be a Debian package name, optionally pinned with =version, e.g. git or python3-venv=3.11.2-1; "
    "no spaces or shell characters",
)
PipPackage = formatted(
    PIP_PACKAGE_PATTERN,
    128,
    "must be a pip requirement: a name with optional [extras] and version specifiers, e.g. numpy==2.1.0; "
    "no spaces, URLs or shell characters",
)
PortName = formatted(
    PORT_NAME_PATTERN,
    15,
    "must be an IANA service name: lowercase letters, digits and single '-' between them, with at least one "
    "letter, e.g. http",
)
AbsolutePath = formatted(r"^/.*$", 4096, "must be an absolute path, e.g. /home/studio")
# A word of the command or its arguments, as long as an env value may be: a script for `sh -c` fits.
Argument = Annotated[str, StringConstraints(max_length=32768)]

UpdatePolicy = Literal["OnRestart", "Immediate"]
BuildPhase = Literal["Pending", "Building", "Succeeded", "Failed"]

DEFAULT_BUILDER_IMAGE = "gcr.io/kaniko-project/executor:v1.23.2"


class Registry(Model):
    """Where built images are pushed."""

    repository: Repository = Field(
        description="Image repository without tag, e.g. registry.example.com/studios/python.",
    )
    push_secret_ref: LocalObjectReference | None = Field(
        None,
        description="Secret of type kubernetes.io/dockerconfigjson in the operator's namespace used to push.",
    )


class ImageBuild(Model):
    """An image built by the operator from a base image and packages."""

    base_image: ImageRef = Field(description="Image to build on, e.g. python:3.12-slim.")
    apt_packages: list[AptPackage] = Field(
        default_factory=list,
        description="Debian packages to install with apt-get, optionally pinned with =version.",
        max_length=200,
        json_schema_extra={"x-kubernetes-list-type": "set"},
    )
    pip_packages: list[PipPackage] = Field(
        default_factory=list,
        description="Python requirements to install with pip, e.g. numpy==2.1.0.",
        max_length=200,
        json_schema_extra={"x-kubernetes-list-type": "set"},
    )
    dockerfile: str = Field("", description="Extra Dockerfile instructions appended after the packages.", max_length=16384)
    registry: Registry = Field(description="Where the built image is pushed.")
    builder_image: ImageRef = Field(
        DEFAULT_BUILDER_IMAGE, description="Unprivileged image builder (kaniko executor compatible)."
    )


class TemplateImage(Model):
    """The studio image: exactly one of prebuilt or build."""

    model_config = {
        "json_schema_extra": {
            "x-kubernetes-validations": [
                {
                    "rule": "has(self.prebuilt) != has(self.build)",
                    "message": "exactly one of image.prebuilt or image.build must be set",
                }
            ]
        }
    }

    prebuilt: ImageRef | None = Field(None, description="An existing image reference, ideally pinned by digest.")
    build: ImageBuild | None = Field(None, description="Build the image from a base image and packages.")


class Port(Model):
    """A port the studio serves; the first is the main UI."""

    name: PortName = Field(description="IANA service name, e.g. http.")
    port: int = Field(description="Container port, 1-65535.", ge=1, le=65535)
    protocol: Literal["TCP", "UDP", "SCTP"] = Field("TCP", description="TCP, UDP or SCTP.")


class TemplateStorage(Model):
    """The studio's home volume."""

    mount_path: AbsolutePath = Field("/home/studio", description="Where the home volume is mounted.")
    size: StorageSize | None = Field(
        None, description="Size of a studio's home volume (else the workspace default, else 10Gi)."
    )


class SecurityDefaults(Model):
    """Identity the studio runs as. Studios always run under Pod Security restricted."""

    run_as_user: int = Field(1000, description="UID of the studio process; never 0.", ge=1, le=2147483647)
    run_as_group: int = Field(1000, description="GID of the studio process.", ge=0, le=2147483647)
    fs_group: int = Field(1000, description="Group that owns the home volume.", ge=0, le=2147483647)


class CodeStudioTemplateSpec(Model):
    """Desired state of a CodeStudioTemplate."""

    model_config = {
        "json_schema_extra": {
            "x-kubernetes-validations": [
                {
                    "rule": "self.ports.all(p, self.ports.exists_one(q, q.port == p.port && q.protocol == p.protocol))",
                    "message": "ports must not repeat the same port and protocol",
                    "fieldPath": ".ports",
                }
            ]
        }
    }

    description: str | None = Field(None, description="What the template is for.", max_length=1024)
    image: TemplateImage = Field(
        description="The studio image: exactly one of prebuilt (an existing image) or build (built by the operator)."
    )
    ports: list[Port] = Field(
        default_factory=lambda: [Port(name="http", port=8080)],
        description="Ports the studio serves; the first is the main UI.",
        min_length=1,
        max_length=16,
        json_schema_extra={
            "x-kubernetes-list-type": "map",
            "x-kubernetes-list-map-keys": ["name"],
            "default": [{"name": "http", "port": 8080, "protocol": "TCP"}],
        },
    )
    command: list[Argument] = Field(default_factory=list, description="Entrypoint override.", max_length=64)
    args: list[Argument] = Field(default_factory=list, description="Arguments to the entrypoint.", max_length=256)
    env: EnvList
    working_dir: AbsolutePath | None = Field(None, description="Working directory of the studio process.")
    resources: ResourceRequirements | None = Field(None, description="Default compute resources of a studio.")
    storage: TemplateStorage = Field(
        default_factory=TemplateStorage, description="The home volume.", json_schema_extra={"default": {}}
    )
    idle_timeout: Duration | None = Field(
        None, description="Stop a studio after this long without activity, e.g. 2h; 0 never stops it."
    )
    security_context: SecurityDefaults = Field(
        default_factory=SecurityDefaults,
        description="Identity the studio runs as; studios always run under Pod Security restricted.",
        json_schema_extra={"default": {}},
    )
    update_policy: UpdatePolicy = Field(
        "OnRestart",
        description=(
            "OnRestart: a new image reaches a running studio at its next restart (it shows pendingRestart); "
            "Immediate: the operator restarts such studios one at a time."
        ),
    )


class BuildStatus(Model):
    """The latest image build."""

    phase: BuildPhase | None = Field(None, description="Pending, Building, Succeeded or Failed.")
    job: str | None = Field(None, description="Name of the build Job.", max_length=253)
    started_at: Timestamp | None = Field(None, description="When the build started.")
    finished_at: Timestamp | None = Field(None, description="When the build finished.")
    message: str | None = Field(None, description="Result, or the tail of a failed build's log.", max_length=8192)
    attempts: int | None = Field(None, description="Builds tried for the current inputs; failures retry with backoff.", ge=0)


class CodeStudioTemplateStatus(Model):
    """Observed state of a CodeStudioTemplate."""

    observed_generation: int | None = Field(None, description="The metadata.generation last reconciled.", ge=0)
    image: str | None = Field(None, description="The image studios use, pinned by digest when known.", max_length=512)
    build_hash: str | None = Field(None, description="Hash of every build input; the built image's tag.", max_length=128)
    build: BuildStatus | None = Field(None, description="The latest build.")
    code_studios: int | None = Field(None, description="How many CodeStudios use this template.", ge=0)
    conditions: Conditions


class CodeStudioTemplate(
    Resource,
    version=VERSION,
    scope=Scope.CLUSTER,
    short_names=["studiotemplate"],
    subresources={"status": {}},
    printer_columns=[
        {"name": "Image", "type": "string", "jsonPath": ".status.image"},
        {"name": "Build", "type": "string", "jsonPath": ".status.build.phase"},
        {"name": "Studios", "type": "integer", "jsonPath": ".status.codeStudios"},
        {"name": "Ready", "type": "string", "jsonPath": '.status.conditions[?(@.type=="Ready")].status'},
    ],
):
    """What a studio is made of: image, ports, command, environment, resources and storage."""

    model_config = {
        "json_schema_extra": {
            "x-kubernetes-validations": [
                {
                    "rule": "size(self.metadata.name) <= 63",
                    "message": (
                        "metadata.name labels the template's build Jobs and studio pods (studio.dev/template), so it "
                        "must be at most 63 characters"
                    ),
                }
            ]
        }
    }

    spec: CodeStudioTemplateSpec
    status: CodeStudioTemplateStatus = Field(default_factory=CodeStudioTemplateStatus)
