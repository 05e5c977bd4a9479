"""Operator settings, from the command line or STUDIO_* environment variables."""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Callable
from typing import TypeVar

from .api.common import OPERATOR_NAMESPACE

T = TypeVar("T", int, float)
BOOLEANS = {"1": True, "true": True, "yes": True, "0": False, "false": False, "no": False}


class SettingError(ValueError):
    """A STUDIO_* variable the operator cannot use; the message names it and what it accepts."""


def _env(name: str, default: str) -> str:
    return os.environ.get(f"STUDIO_{name}", default)


def number(name: str, default: str, convert: Callable[[str], T], accepts: Callable[[T], bool], expected: str) -> T:
    """STUDIO_<name> as a number, or a SettingError saying what would be accepted."""
    raw = _env(name, default)
    try:
        value = convert(raw)
    except ValueError:
        value = None
    if value is None or not math.isfinite(value) or not accepts(value):
        raise SettingError(f"STUDIO_{name}={raw!r}: expected {expected}")
    return value


def flag(name: str, default: str) -> bool:
    raw = _env(name, default)
    if raw.strip().lower() not in BOOLEANS:
        raise SettingError(f"STUDIO_{name}={raw!r}: expected true or false (also 1/0, yes/no)")
    return BOOLEANS[raw.strip().lower()]


def seconds(name: str, default: str, minimum: float = 0, above: bool = False) -> float:
    expected = f"a number of seconds {'greater than' if above else 'of at least'} {minimum:g}"
    return number(name, default, float, (lambda v: v > minimum) if above else (lambda v: v >= minimum), expected)


def port(name: str, default: str, zero: str) -> int:
    """STUDIO_<name> as a port number; zero says what 0 means."""
    return number(name, default, int, lambda v: 0 <= v <= 65535, f"a port number from 0 ({zero}) to 65535")


@dataclasses.dataclass
class Config:
    namespace: str = dataclasses.field(default_factory=lambda: _env("NAMESPACE", OPERATOR_NAMESPACE))
    # A pod that no node can take is Failed after this long (seconds).
    unschedulable_timeout: float = dataclasses.field(default_factory=lambda: seconds("UNSCHEDULABLE_TIMEOUT", "60"))
    # Reconciles at once. Each mostly waits for the API server; with 16 a burst of 1,000 new
    # studios queued for tens of seconds before the first look (bench/README.md).
    workers: int = dataclasses.field(
        default_factory=lambda: number("WORKERS", "64", int, lambda v: v >= 1, "a whole number of at least 1"))
    # Every object is looked at again this often even when no event says so (seconds).
    resync_period: float = dataclasses.field(default_factory=lambda: seconds("RESYNC_PERIOD", "300", above=True))
    # A studio's transient state (Starting, Stopping) while its pod comes and goes is written only
    # once it lasted this long (seconds): a start that settles sooner costs one status write.
    progress_hold: float = dataclasses.field(default_factory=lambda: seconds("PROGRESS_HOLD", "2"))
    # The same for a new studio's first start while its pod makes headway: the API server shows
    # it Starting from its creation (the CRD's default status), so its detail can wait longer.
    # Under the 60 s after which `studioctl doctor` calls a studio with no status unreported.
    first_start_hold: float = dataclasses.field(default_factory=lambda: seconds("FIRST_START_HOLD", "30"))
    # Admission webhooks: where the HTTPS server listens (port 0: any free one), the host the API
    # server reaches it by (default: the listening address), a directory with tls.crt/tls.key
    # (default: a self-signed certificate), and whether the operator keeps the webhook
    # configurations itself (local runs; an install that ships its own turns this off).
    webhook_addr: str = dataclasses.field(default_factory=lambda: _env("WEBHOOK_ADDR", "127.0.0.1"))
    webhook_port: int = dataclasses.field(default_factory=lambda: port("WEBHOOK_PORT", "0", "any free port"))
    webhook_host: str = dataclasses.field(default_factory=lambda: _env("WEBHOOK_HOST", ""))
    webhook_cert_dir: str = dataclasses.field(default_factory=lambda: _env("WEBHOOK_CERT_DIR", ""))
    webhook_managed: bool = dataclasses.field(default_factory=lambda: flag("WEBHOOK_MANAGED", "true"))
    # In a cluster: the Service (in the operator's namespace, port 443) the API server calls the
    # webhooks through, rather than a URL (API servers rarely resolve cluster DNS names).
    webhook_service: str = dataclasses.field(default_factory=lambda: _env("WEBHOOK_SERVICE", ""))
