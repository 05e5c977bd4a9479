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
    # Reconciles at once. Each mostly waits for the API server; with 16 a burst of 1,000 new
    # studios queued for tens of seconds before the first look (bench/README.md).
    workers: int = dataclasses.field(default_factory=lambda: int(_env("WORKERS", "64")))
    # Every object is looked at again this often even when no event says so (seconds).
    resync_period: float = dataclasses.field(default_factory=lambda: float(_env("RESYNC_PERIOD", "300")))
    # A studio's transient state (Starting, Stopping) while its pod comes and goes is written only
    # once it lasted this long (seconds): a start that settles sooner costs one status write.
    progress_hold: float = dataclasses.field(default_factory=lambda: float(_env("PROGRESS_HOLD", "2")))
