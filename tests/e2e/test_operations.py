"""Operating the operator: its Prometheus metrics, scraped from the running process after real
studio and template lifecycles, and its logs."""

from __future__ import annotations

import collections
import json
import time
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.install import RELEASE
from tests.e2e.kube import Cluster
from tests.e2e.operator import WEBHOOK_CONFIGURATIONS, OperatorProcess
from tests.e2e.studios import build_template, make_template, run_stop_start, studio_manifest, wait_state



class Scrape:
    def __init__(self, url: str):
        with urllib.request.urlopen(url, timeout=10) as resp:
            assert resp.headers["Content-Type"].startswith("text/plain")
            text = resp.read().decode()
        self.families = {f.name: f for f in text_string_to_metric_families(text)}
        self.samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
                        for f in self.families.values() for s in f.samples}

    def value(self, name: str, **labels: str) -> float:
        return self.samples.get((name, tuple(sorted(labels.items()))), 0.0)

    def by_label(self, name: str, label: str) -> dict[str, float]:
        return {dict(k[1])[label]: v for k, v in self.samples.items() if k[0] == name}


def studio_states(cluster: Cluster) -> dict[str, int]:
    items = json.loads(cluster.kubectl("get", "codestudios", "--all-namespaces", "-o", "json").stdout)["items"]
    return dict(collections.Counter((i.get("status") or {}).get("state") or "Unknown" for i in items))


@pytest.mark.usefixtures("builds")
def test_metrics_after_studio_and_template_lifecycles(cluster: Cluster, namespace: str, running_operator: OperatorProcess,
                                                      request):
    op = running_operator
    before = Scrape(op.metrics_url)

    # A studio created, stopped and started again: two Starting -> Running transitions.
    tpl = make_template(cluster, request)
    run_stop_start(cluster, namespace, "metered", tpl)

    # An operator whose RBAC lags its code (here: its status writes on studios revoked for a
    # while): reconcile errors, by the API server's reason, until the permission is back.
    role = cluster.get("clusterrole", RELEASE)
    revoked = [{**r, "resources": [x for x in r["resources"] if x != "codestudios/status"]} for r in role["rules"]]
    restore = json.dumps([{"op": "replace", "path": "/rules", "value": role["rules"]}])
    cluster.kubectl("patch", "clusterrole", RELEASE, "--type=json",
                    "-p", json.dumps([{"op": "replace", "path": "/rules", "value": revoked}]))
    request.addfinalizer(lambda: cluster.kubectl("patch", "clusterrole", RELEASE, "--type=json", "-p", restore))
    cluster.apply(studio_manifest("refused", namespace, tpl))

    # A template image build, played by kwok (the `builds` fixture).
    build_template(cluster, request, repository="registry.example.com/studios/metered", push_secret=None)

    def settled():
        after = Scrape(op.metrics_url)
        done = (after.value("studio_operator_template_builds_total", result="Succeeded")
                > before.value("studio_operator_template_builds_total", result="Succeeded")
                and after.value("studio_operator_reconcile_errors_total", kind="studio", reason="Forbidden")
                > before.value("studio_operator_reconcile_errors_total", kind="studio", reason="Forbidden"))
        return after if done else None

    after = cluster.wait_for(settled, timeout=90, what="a finished build and a refused status write in the metrics")
    cluster.kubectl("patch", "clusterrole", RELEASE, "--type=json", "-p", restore)
    wait_state(cluster, namespace, "refused", "Running", timeout=90)  # backoff: at most a minute

    # Studios by state: the operator's view is the API server's (every known state reported).
    def gauge_matches():
        scrape = Scrape(op.metrics_url)
        gauge = {k: int(v) for k, v in scrape.by_label("studio_operator_codestudios", "state").items()}
        assert {"Starting", "Running", "Stopping", "Stopped", "Failed"} <= set(gauge)
        return {k: v for k, v in gauge.items() if v} == studio_states(cluster)

    cluster.wait_for(gauge_matches, timeout=30, what="studios by state to match the API server")
    assert after.value("studio_operator_codestudios", state="Running") >= 1

    # create -> Running latency: at least the two starts above, each a few seconds at most here.
    starts = after.value("studio_operator_codestudio_start_seconds_count") - before.value(
        "studio_operator_codestudio_start_seconds_count")
    seconds = after.value("studio_operator_codestudio_start_seconds_sum") - before.value(
        "studio_operator_codestudio_start_seconds_sum")
    assert starts >= 2
    assert 0 <= seconds / starts < 30
    assert after.value("studio_operator_codestudio_start_seconds_bucket", le="+Inf") == after.value(
        "studio_operator_codestudio_start_seconds_count")

    # Builds: the result and how long it took (kwok's builder takes about no time).
    build_count = after.value("studio_operator_template_build_duration_seconds_count", result="Succeeded") - before.value(
        "studio_operator_template_build_duration_seconds_count", result="Succeeded")
    assert build_count >= 1
    assert 0 <= after.value("studio_operator_template_build_duration_seconds_sum", result="Succeeded") < 3600 * build_count

    # Reconciles: timed per kind; the refused pod is an error by its API reason, not a retry.
    assert after.value("studio_operator_reconcile_duration_seconds_count", kind="studio") > before.value(
        "studio_operator_reconcile_duration_seconds_count", kind="studio")
    assert after.value("studio_operator_reconcile_duration_seconds_count", kind="template") > 0
    assert "studio_operator_api_retries" in after.families  # declared even before the first retry
    assert "studio_operator_work_queue_depth" in after.families
    assert after.value("studio_operator_cache_ready") == 1
    templates = len(json.loads(cluster.kubectl("get", "codestudiotemplates", "-o", "json").stdout)["items"])
    cluster.wait_for(lambda: sum(Scrape(op.metrics_url).by_label("studio_operator_codestudiotemplates", "ready").values())
                     == templates, timeout=30, what="every template counted once")


def test_logs_are_json_on_request(cluster: Cluster, operator: OperatorProcess, tmp_path):
    """Readable lines by default (the session operator's log); one JSON object a line with --log-format json."""
    plain = operator.log_path.read_text().splitlines()
    assert any(line.startswith("studio-operator started: Config(") for line in plain)

    operator.stop()  # one operator at a time; the next test's running_operator starts it again
    log = tmp_path / "operator.log"
    op = OperatorProcess(operator.kubeconfig, log, env={"STUDIO_LOG_FORMAT": "json"})
    op.start()
    op.stop()
    records = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    assert records and all({"message", "timestamp", "severity"} <= set(r) for r in records)
    assert any(r["message"].startswith("studio-operator started") and r["severity"] == "info" for r in records)


def test_a_clean_stop_leaves_the_webhooks_registered(cluster: Cluster, operator: OperatorProcess, namespace: str):
    """An upgrade or eviction stops the operator with SIGTERM: the webhooks must stay, so that
    until the next one answers the API server applies their failure policies (decision 0010)."""
    if operator.proc is None or operator.proc.poll() is not None:
        operator.start()

    def webhooks() -> dict[str, list[str]]:
        return {c: cluster.kubectl("get", c, "-o", "jsonpath={.webhooks[*].name}").stdout.split()
                for c in WEBHOOK_CONFIGURATIONS}

    registered = webhooks()
    assert sorted(registered[WEBHOOK_CONFIGURATIONS[0]]) == [
        "codestudio.studio.dev", "codestudiotemplate.studio.dev", "workspace-namespace.studio.dev",
        "workspace.studio.dev"]
    assert registered[WEBHOOK_CONFIGURATIONS[1]] == ["codestudio-owner.studio.dev"]
    operator.stop()
    try:
        assert operator.proc.returncode == 0, f"not a clean stop; see {operator.log_path}"
        assert webhooks() == registered
        # Owner defaulting fails closed: no studio is stored without an owner while no operator runs.
        refused = cluster.apply(studio_manifest("no-operator", namespace, "any-template"), check=False)
        assert refused.returncode != 0 and "codestudio-owner.studio.dev" in refused.stderr, refused.stderr
    finally:
        operator.start()


def test_an_operator_that_may_not_list_a_kind_says_so_in_its_metrics(cluster: Cluster, operator: OperatorProcess,
                                                                     request):
    """An install whose RBAC lacks `list` on one kind it watches (here Services): the operator runs
    and answers its probes but reconciles nothing; studio_operator_cache_ready says so until the
    permission is back (the StudioOperatorNotListing alert, docs/operations.md)."""
    if operator.proc is not None and operator.proc.poll() is None:
        operator.stop()
    role = cluster.get("clusterrole", RELEASE)
    restore = json.dumps([{"op": "replace", "path": "/rules", "value": role["rules"]}])
    request.addfinalizer(lambda: operator.proc.poll() is None or operator.start())
    request.addfinalizer(lambda: cluster.kubectl("patch", "clusterrole", RELEASE, "--type=json", "-p", restore))
    verbs = sorted({v for r in role["rules"] if "services" in r["resources"] and not r.get("resourceNames")
                    for v in r["verbs"]} - {"list"})
    revoked = [{**r, "resources": [x for x in r["resources"] if x != "services"]} for r in role["rules"]]
    revoked = [r for r in revoked if r["resources"]] + [{"apiGroups": [""], "resources": ["services"], "verbs": verbs}]
    cluster.kubectl("patch", "clusterrole", RELEASE, "--type=json",
                    "-p", json.dumps([{"op": "replace", "path": "/rules", "value": revoked}]))
    operator.start()

    samples = []
    for _ in range(5):
        samples.append(Scrape(operator.metrics_url).samples.get(("studio_operator_cache_ready", ())))
        time.sleep(1)
    assert samples == [0.0] * 5, samples

    cluster.kubectl("patch", "clusterrole", RELEASE, "--type=json", "-p", restore)
    cluster.wait_for(lambda: Scrape(operator.metrics_url).value("studio_operator_cache_ready") == 1, timeout=90,
                     what="studio_operator_cache_ready to be 1 once the operator may list Services again")
