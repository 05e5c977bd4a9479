"""Suite-wide rules: a skipped end-to-end test fails the run (it proved nothing)."""

from __future__ import annotations

import pytest


def pytest_sessionfinish(session, exitstatus):
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None:
        return
    skipped = [r for r in reporter.stats.get("skipped", []) if "e2e" in r.keywords]
    if skipped:
        reporter.write_line(
            f"FAILED: {len(skipped)} e2e test(s) skipped; e2e tests must run", red=True
        )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
