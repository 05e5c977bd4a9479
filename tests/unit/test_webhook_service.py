"""In a cluster the API server reaches the webhooks through the chart's Service, not a URL."""

from __future__ import annotations

import base64

import pytest
from cryptography import x509

from studio_operator.admission.server import webhook_server
from studio_operator.config import Config


@pytest.mark.asyncio
async def test_a_webhook_service_is_registered_by_reference_with_a_certificate_for_its_name():
    server = webhook_server(Config(namespace="studio-system", webhook_addr="127.0.0.1", webhook_service="op-webhook"))
    configs = server(lambda *_, **__: None)
    try:
        config = await configs.__anext__()
    finally:
        await configs.aclose()
    assert config["service"] == {"namespace": "studio-system", "name": "op-webhook", "port": 443, "path": ""}
    assert "url" not in config
    cert = x509.load_pem_x509_certificate(base64.b64decode(config["caBundle"]))
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(x509.DNSName)
    assert names == ["op-webhook.studio-system.svc"]


@pytest.mark.asyncio
async def test_without_a_service_the_webhooks_are_called_by_url():
    server = webhook_server(Config(webhook_addr="127.0.0.1", webhook_service=""))
    configs = server(lambda *_, **__: None)
    try:
        config = await configs.__anext__()
    finally:
        await configs.aclose()
    assert config["url"].startswith("https://127.0.0.1:") and "service" not in config
