"""The Studio Operator SDK: workspaces, code studios and templates from Python.

    from studio_operator.client import Client

    client = Client()                          # kubeconfig, else in-cluster
    team = client.workspaces.get("team-a")     # None (and a warning) when missing
    team.add_user("bob", role="member")
    for studio in team.code_studios(owner="bob"):
        print(studio.name, studio.get_status().state)
        studio.stop().wait_for_result(timeout=120)

Every call reads or writes the custom resources through the API server; the operator does
the rest. Return values are the typed API models of `studio_operator.api`; errors are the
StudioError subclasses below.
"""

from ..api.workspace import Member
from .connection import Client
from .errors import (
    AlreadyExists,
    ApiError,
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
    NotFoundWarning,
    OperationFailed,
    StudioError,
    Unreachable,
    WaitTimeout,
)
from .operations import Operation
from .portforward import PortForward
from .studios import CodeStudio
from .templates import Template, Templates
from .workspaces import Workspace, Workspaces

__all__ = [
    "AlreadyExists",
    "ApiError",
    "Client",
    "CodeStudio",
    "Conflict",
    "Forbidden",
    "Invalid",
    "Member",
    "NotFound",
    "NotFoundWarning",
    "Operation",
    "OperationFailed",
    "PortForward",
    "StudioError",
    "Template",
    "Templates",
    "Unreachable",
    "WaitTimeout",
    "Workspace",
    "Workspaces",
]
