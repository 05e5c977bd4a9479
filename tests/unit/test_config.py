"""The operator's STUDIO_* settings: a bad value stops it with a message naming the variable and
what it accepts, and docs/operations.md lists exactly the variables it reads."""

from __future__ import annotations

import pathlib
import re

import pytest

from studio_operator import main
from studio_operator.config import Config, SettingError

ROOT = pathlib.Path(__file__).resolve().parents[2]
SOURCES = [ROOT / "operator" / "studio_operator" / f for f in ("config.py", "main.py")]


@pytest.mark.parametrize(("variable", "value", "message"), [
    ("STUDIO_WORKERS", "many", "STUDIO_WORKERS='many': expected a whole number of at least 1"),
    ("STUDIO_WORKERS", "0", "STUDIO_WORKERS='0': expected a whole number of at least 1"),
    ("STUDIO_RESYNC_PERIOD", "0", "STUDIO_RESYNC_PERIOD='0': expected a number of seconds greater than 0"),
    ("STUDIO_UNSCHEDULABLE_TIMEOUT", "1m", "STUDIO_UNSCHEDULABLE_TIMEOUT='1m': expected a number of seconds of at least 0"),
    ("STUDIO_PROGRESS_HOLD", "nan", "STUDIO_PROGRESS_HOLD='nan': expected a number of seconds of at least 0"),
    ("STUDIO_WEBHOOK_PORT", "70000", "STUDIO_WEBHOOK_PORT='70000': expected a port number from 0 (any free port) to 65535"),
    ("STUDIO_WEBHOOK_MANAGED", "ture", "STUDIO_WEBHOOK_MANAGED='ture': expected true or false (also 1/0, yes/no)"),
])
def test_a_bad_setting_names_the_variable_and_what_it_accepts(monkeypatch, variable, value, message):
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingError) as exc:
        Config()
    assert str(exc.value) == message


def test_settings_from_the_environment_and_flags(monkeypatch):
    monkeypatch.setenv("STUDIO_WORKERS", "8")
    monkeypatch.setenv("STUDIO_WEBHOOK_MANAGED", "False")
    config = main.config_from(main.parse_args(["--webhook-port", "9443"]))
    assert (config.workers, config.webhook_managed, config.webhook_port) == (8, False, 9443)


@pytest.mark.parametrize(("variable", "value", "message"), [
    ("STUDIO_WORKERS", "many", "STUDIO_WORKERS='many': expected a whole number of at least 1"),
    ("STUDIO_LOG_FORMAT", "xml", "STUDIO_LOG_FORMAT='xml': expected one of plain, full, json"),
    ("STUDIO_METRICS_PORT", "metrics", "STUDIO_METRICS_PORT='metrics': expected a port number from 0 (off) to 65535"),
])
def test_the_operator_stops_with_a_usage_error_not_a_traceback(monkeypatch, capsys, variable, value, message):
    monkeypatch.setenv(variable, value)
    with pytest.raises(SystemExit) as exc:
        main.main([])
    assert exc.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == f"studio-operator: error: {message}"


def variables_read() -> set[str]:
    text = "".join(p.read_text() for p in SOURCES)
    return {f"STUDIO_{n}" for n in re.findall(r'(?:_env|number|seconds|port|flag)\("([A-Z_]+)"', text)} | set(
        re.findall(r'"(STUDIO_[A-Z_]+)"', text))


def test_operations_md_lists_every_variable_the_operator_reads_and_no_other():
    doc = (ROOT / "docs" / "operations.md").read_text()
    table = doc.split("### Settings", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"^\| `(STUDIO_[A-Z_]+)`", table, re.M))
    assert "STUDIO_PROGRESS_HOLD" in variables_read()
    assert documented == variables_read()
