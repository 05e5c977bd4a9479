"""What doctor is asked to do, and the small helpers every check uses."""

from __future__ import annotations

import dataclasses
from typing import Any

from ..api.common import OPERATOR_NAMESPACE
from ..client import Client
from ..client.errors import api_errors


@dataclasses.dataclass(frozen=True)
class Options:
    workspace: str | None = None  # only this workspace (and what its studios use)
    fix: bool = False  # repair what is safe to repair
    # A local operator has no Deployment; its liveness endpoint says it runs.
    operator_url: str | None = None
    operator_namespace: str = OPERATOR_NAMESPACE
    # An object deleting for longer than this with finalizers left is stuck (seconds).
    stuck_after: float = 60.0


def read(client: Client, call, *args: Any, **kwargs: Any) -> Any:
    """A kubernetes client call's result as plain dicts (camelCase, as kubectl shows it)."""
    with api_errors():
        return client.api_client.sanitize_for_serialization(call(*args, **kwargs))
