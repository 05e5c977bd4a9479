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
    # Admission webhooks: where the HTTPS server listens (port 0: any free one), the host the API
    # server reaches it by (default: the listening address), a directory with tls.crt/tls.key
    # (default: a self-signed certificate), and whether the operator keeps the webhook
    # configurations itself (local runs; an install that ships its own turns this off).
    webhook_addr: str = dataclasses.field(default_factory=lambda: _env("WEBHOOK_ADDR", "127.0.0.1"))
    webhook_port: int = dataclasses.field(default_factory=lambda: int(_env("WEBHOOK_PORT", "0")))
    webhook_host: str = dataclasses.field(default_factory=lambda: _env("WEBHOOK_HOST", ""))
    webhook_cert_dir: str = dataclasses.field(default_factory=lambda: _env("WEBHOOK_CERT_DIR", ""))
    webhook_managed: bool = dataclasses.field(
        default_factory=lambda: _env("WEBHOOK_MANAGED", "true").lower() in ("1", "true", "yes"))
    # In a cluster: the Service (in the operator's namespace, port 443) the API server calls the
    # webhooks through, rather than a URL (API servers rarely resolve cluster DNS names).
    webhook_service: str = dataclasses.field(default_factory=lambda: _env("WEBHOOK_SERVICE", ""))
