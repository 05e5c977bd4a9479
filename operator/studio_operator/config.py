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
