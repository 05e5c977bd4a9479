"""What a studio runs with, resolved from the studio, its template and its workspace."""

from __future__ import annotations

import dataclasses

from ..api import CodeStudio, CodeStudioTemplate, Workspace
from ..api.common import EnvVar, ResourceRequirements
from ..api.template import Port, SecurityDefaults
from ..workspaces.children import STUDIO_SERVICE_ACCOUNT

DEFAULT_STORAGE_SIZE = "10Gi"
DEFAULT_MOUNT_PATH = "/home/studio"


@dataclasses.dataclass(frozen=True)
class StudioSettings:
    image: str | None
    ports: tuple[Port, ...]
    command: tuple[str, ...]
    args: tuple[str, ...]
    env: tuple[EnvVar, ...]
    working_dir: str | None
    resources: dict[str, dict[str, str]]
    storage_size: str
    storage_class: str | None
    mount_path: str
    security: SecurityDefaults
    service_account: str | None  # the workspace's ServiceAccount for studios; None outside workspaces


def template_image(template: CodeStudioTemplate | None) -> str | None:
    """The image studios of this template run: the pinned build result, else the prebuilt reference."""
    if template is None:
        return None
    if template.status.image:
        return template.status.image
    return template.spec.image.prebuilt


def _merge_resources(*layers: ResourceRequirements | None) -> dict[str, dict[str, str]]:
    """Per resource name, the first layer that sets it wins (studio, template, workspace)."""
    merged: dict[str, dict[str, str]] = {}
    for section in ("requests", "limits"):
        values: dict[str, str] = {}
        for layer in reversed([lay for lay in layers if lay is not None]):
            values.update({k: str(v) for k, v in getattr(layer, section).items()})
        if values:
            merged[section] = values
    return merged


def _merge_env(*layers: list[EnvVar]) -> tuple[EnvVar, ...]:
    """Later layers override earlier ones by name, keeping first-seen order."""
    by_name: dict[str, EnvVar] = {}
    for layer in layers:
        for var in layer:
            by_name[var.name] = var
    return tuple(by_name.values())


def resolve_settings(studio: CodeStudio, template: CodeStudioTemplate | None, workspace: Workspace | None) -> StudioSettings:
    defaults = workspace.spec.defaults if workspace else None
    tspec = template.spec if template else None
    size = (
        (studio.spec.storage.size if studio.spec.storage else None)
        or (tspec.storage.size if tspec else None)
        or (defaults.storage_size if defaults else None)
        or DEFAULT_STORAGE_SIZE
    )
    return StudioSettings(
        image=template_image(template),
        ports=tuple(tspec.ports) if tspec else (),
        command=tuple(tspec.command) if tspec else (),
        args=tuple(tspec.args) if tspec else (),
        env=_merge_env(tspec.env if tspec else [], studio.spec.env),
        working_dir=tspec.working_dir if tspec else None,
        resources=_merge_resources(studio.spec.resources, tspec.resources if tspec else None,
                                   defaults.resources if defaults else None),
        storage_size=size,
        storage_class=defaults.storage_class_name if defaults else None,
        mount_path=tspec.storage.mount_path if tspec else DEFAULT_MOUNT_PATH,
        security=tspec.security_context if tspec else SecurityDefaults(),
        service_account=STUDIO_SERVICE_ACCOUNT if workspace else None,
    )
