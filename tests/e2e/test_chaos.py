"""Chaos: studios driven through random changes while the operator is SIGKILLed at random moments.

`make test` runs the short form (40 studios, 3 kills); `make test-chaos` the full one (200
studios, 12 kills). STUDIO_CHAOS_SEED replays a run; the other STUDIO_CHAOS_* variables are in
tests/e2e/chaos.py.
"""

from __future__ import annotations

import time

import pytest

from tests.e2e.chaos import ChaosRun, ChaosSettings
from tests.e2e.kube import Cluster, unique_name
from tests.e2e.operator import OperatorProcess


@pytest.mark.timeout(1800)  # the full run (make test-chaos) takes several minutes
def test_studios_converge_after_random_changes_and_operator_kills(cluster: Cluster, running_operator: OperatorProcess):
    settings = ChaosSettings.from_env()
    print(f"\nchaos: {settings}  (replay with STUDIO_CHAOS_SEED={settings.seed})")
    run = ChaosRun(cluster.kubeconfig, running_operator, settings, prefix=unique_name("chaos", 20))
    run.setup()
    try:
        started = time.monotonic()
        run.drive()
        driven = time.monotonic() - started
        converged = run.converge()
        run.assert_quiet()
        run.watch.stop()
        print(f"chaos: seed {settings.seed}; {dict(run.counts)}; {run.volume_report()}")
        print(f"chaos: studio states the changes found: {dict(run.hit)}")
        print(f"chaos: changes took {driven:.1f}s; converged {converged:.1f}s after the last one "
              f"(bound {settings.bound:.0f}s)")
        assert run.counts["kills"] >= settings.kills
        assert sum(m.incarnations > 0 for m in run.model.values()) == settings.studios
    finally:
        run.teardown()
