"""Operator settings, from the command line or STUDIO_* environment variables."""

from __future__ import annotations

import dataclasses
import os

from .api.common import OPERATOR_NAMESPACE


def _env(name: str, default: str) -> str:
    return os.environ.get(f"STUDIO_{name}", default)


@dataclasses.dataclass
class Config:
    namespace: str = dataclasses.field(default_factory=lambda: _env("NAMESPACE", OPERATOR_NAMESPACE))
    # A pod that no node can take is Failed after this long (seconds).
    unschedulable_timeout: float = dataclasses.field(default_factory=lambda: float(_env("UNSCHEDULABLE_TIMEOUT", "60")))
    workers: int = dataclasses.field(default_factory=lambda: int(_env("WORKERS", "16")))
    # Every object is looked at again this often even when no event says so (seconds).
    resync_period: float = dataclasses.field(default_factory=lambda: float(_env("RESYNC_PERIOD", "300")))
