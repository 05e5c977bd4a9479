"""The studio.dev/v1alpha1 API: typed models that are the single source of the CRD schemas."""

from .codestudio import CodeStudio, CodeStudioSpec, CodeStudioStatus
from .common import API_VERSION, GROUP, VERSION, Condition
from .template import CodeStudioTemplate, CodeStudioTemplateSpec, CodeStudioTemplateStatus
from .workspace import Workspace, WorkspaceSpec, WorkspaceStatus

KINDS = (Workspace, CodeStudioTemplate, CodeStudio)

__all__ = [
    "API_VERSION",
    "GROUP",
    "KINDS",
    "VERSION",
    "CodeStudio",
    "CodeStudioSpec",
    "CodeStudioStatus",
    "CodeStudioTemplate",
    "CodeStudioTemplateSpec",
    "CodeStudioTemplateStatus",
    "Condition",
    "Workspace",
    "WorkspaceSpec",
    "WorkspaceStatus",
]
