"""What doctor is asked to do."""

from __future__ import annotations

import dataclasses
from ..api.common import OPERATOR_NAMESPACE


@dataclasses.dataclass(frozen=True)
class Options:
    workspace: str | None = None  # only this workspace (and what its studios use)
    fix: bool = False  # repair what is safe to repair
    # A local operator has no Deployment; its liveness endpoint says it runs.
    operator_url: str | None = None
    operator_namespace: str = OPERATOR_NAMESPACE
    # An object deleting for longer than this with finalizers left is stuck (seconds).
    stuck_after: float = 60.0
