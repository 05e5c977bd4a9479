"""Installing the operator: the Helm chart and manifests/install.yaml against the real API server."""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys

import yaml

from tests.e2e.install import CHART, KUBE_VERSION, NAMESPACE, ROOT, helm, render
from tests.e2e.kube import Cluster, unique_name

RESTRICTED_CONTAINER = {
    "allowPrivilegeEscalation": False,
    "readOnlyRootFilesystem": True,
    "runAsNonRoot": True,
    "capabilities": {"drop": ["ALL"]},
    "seccompProfile": {"type": "RuntimeDefault"},
}
APP_LABELS = ("app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/version",
              "app.kubernetes.io/managed-by", "app.kubernetes.io/part-of")


def by_kind(docs: list[dict], kind: str) -> list[dict]:
    return [d for d in docs if d["kind"] == kind]


def test_helm_lint_passes(cluster: Cluster):
    out = helm(cluster, "lint", str(CHART), "--strict", "--kube-version", KUBE_VERSION).stdout
    assert "0 chart(s) failed" in out


def test_values_schema_rejects_typos_and_bad_values(cluster: Cluster):
    for bad in ("operator.logFormat=xml", "metrics.port=0", "replicas=2", "image.digest=latest"):
        proc = helm(cluster, "template", "x", str(CHART), "--kube-version", KUBE_VERSION, "--set", bad, check=False)
        assert proc.returncode != 0 and "values don't meet the specifications" in proc.stderr, bad


def test_install_yaml_is_the_rendered_chart(cluster: Cluster):
    proc = subprocess.run([sys.executable, "-m", "hack.chart", "--check", "--helm", str(cluster.bindir / "helm")],
                          cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, f"run `make manifests`: {proc.stderr}"


def test_install_yaml_and_helm_template_apply_with_server_dry_run(cluster: Cluster):
    # Namespaced objects can only be dry-run into a namespace that exists.
    cluster.kubectl("create", "namespace", NAMESPACE, check=False)
    proc = cluster.kubectl("apply", "--server-side", "--dry-run=server", "--force-conflicts",
                           "-f", str(ROOT / "manifests" / "install.yaml"))
    applied = proc.stdout.splitlines()
    assert len(applied) == len([d for d in yaml.safe_load_all((ROOT / "manifests" / "install.yaml").read_text()) if d])
    assert all("(server dry run)" in line for line in applied)

    rendered = render(cluster, "--include-crds", "--set-string", "metrics.service.annotations.prometheus\\.io/scrape=true",
                      "--set", "operator.logFormat=json")
    proc = cluster.kubectl("apply", "--server-side", "--dry-run=server", "--force-conflicts", "-f", "-",
                           input=yaml.safe_dump_all(rendered))
    assert len(proc.stdout.splitlines()) == len(rendered)


def test_rbac_has_no_wildcards_and_the_pod_is_restricted(cluster: Cluster):
    docs = render(cluster)
    roles = by_kind(docs, "ClusterRole") + by_kind(docs, "Role")
    assert roles
    for role in roles:
        for rule in role["rules"]:
            for key in ("apiGroups", "resources", "verbs", "resourceNames", "nonResourceURLs"):
                assert "*" not in rule.get(key, []), (role["metadata"]["name"], rule)
    for binding in by_kind(docs, "ClusterRoleBinding"):
        assert binding["roleRef"]["name"] != "cluster-admin"

    (deploy,) = by_kind(docs, "Deployment")
    pod = deploy["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert isinstance(pod["securityContext"]["runAsUser"], int) and pod["securityContext"]["runAsUser"] > 0
    (container,) = pod["containers"]
    assert container["securityContext"] == RESTRICTED_CONTAINER
    assert {"name": "tmp", "mountPath": "/tmp"} in container["volumeMounts"]
    assert {"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}} in pod["volumes"]


def test_every_object_carries_the_app_labels(cluster: Cluster):
    for doc in render(cluster, "--set", "createNamespace=true"):
        labels = doc["metadata"].get("labels", {})
        missing = [k for k in APP_LABELS if k not in labels]
        assert not missing, f"{doc['kind']}/{doc['metadata']['name']} lacks {missing}"


def test_member_roles_are_the_shipped_ones(cluster: Cluster):
    rendered = {r["metadata"]["name"]: r for r in by_kind(render(cluster), "ClusterRole")}
    for path in sorted((ROOT / "manifests" / "rbac").glob("*.yaml")):
        shipped = yaml.safe_load(path.read_text())
        assert rendered[shipped["metadata"]["name"]]["rules"] == shipped["rules"]
    assert not [r for r in by_kind(render(cluster, "--set", "memberRoles.create=false"), "ClusterRole")
                if r["metadata"]["name"].startswith("studio-workspace-")]


def test_webhook_certificate_from_cert_manager_is_optional(cluster: Cluster):
    assert not by_kind(render(cluster), "Certificate")
    docs = render(cluster, "--set", "webhook.certManager.enabled=true")
    (cert,) = by_kind(docs, "Certificate")
    (issuer,) = by_kind(docs, "Issuer")
    (deploy,) = by_kind(docs, "Deployment")
    pod = deploy["spec"]["template"]["spec"]
    assert cert["spec"]["issuerRef"] == {"kind": "Issuer", "name": issuer["metadata"]["name"]}
    assert f"{deploy['metadata']['name']}-webhook.{NAMESPACE}.svc" in cert["spec"]["dnsNames"]
    assert {"name": "webhook-tls", "secret": {"secretName": cert["spec"]["secretName"]}} in pod["volumes"]
    env = {e["name"]: e.get("value") for e in pod["containers"][0]["env"]}
    assert env["STUDIO_WEBHOOK_CERT_DIR"] == "/etc/studio-operator/webhook-tls"
    docs = render(cluster, "--set", "webhook.certManager.enabled=true", "--set", "webhook.certManager.issuerRef.kind=ClusterIssuer",
                  "--set", "webhook.certManager.issuerRef.name=corp-ca")
    assert not by_kind(docs, "Issuer")
    assert by_kind(docs, "Certificate")[0]["spec"]["issuerRef"] == {"kind": "ClusterIssuer", "name": "corp-ca"}
    env = {e["name"]: e.get("value") for e in by_kind(render(cluster, "--set", "webhook.enabled=false"),
                                                       "Deployment")[0]["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["STUDIO_WEBHOOK_MANAGED"] == "false" and "STUDIO_WEBHOOK_SERVICE" not in env


def test_service_monitor_is_optional(cluster: Cluster):
    assert not by_kind(render(cluster), "ServiceMonitor")
    (monitor,) = by_kind(render(cluster, "--set", "metrics.serviceMonitor.enabled=true",
                                "--set", "metrics.serviceMonitor.labels.release=prom"), "ServiceMonitor")
    (service,) = [s for s in by_kind(render(cluster), "Service") if s["metadata"]["name"].endswith("-metrics")]
    assert monitor["metadata"]["labels"]["release"] == "prom"
    assert monitor["spec"]["endpoints"] == [{"port": "metrics", "path": "/metrics", "interval": "30s"}]
    assert all(service["metadata"]["labels"][k] == v for k, v in monitor["spec"]["selector"]["matchLabels"].items())


def test_helm_install_creates_the_operator_deployment(cluster: Cluster, request):
    """A real `helm install` into a namespace that enforces restricted Pod Security.

    kwok's fake nodes do not run the image, but the API server admits the pod (Pod Security)
    and the Deployment rolls out, which is what the chart decides.
    """
    namespace = unique_name("helm-install")
    release = unique_name("op", max_len=16)
    cluster.kubectl("create", "namespace", namespace)
    cluster.kubectl("label", "namespace", namespace, "pod-security.kubernetes.io/enforce=restricted")
    request.addfinalizer(lambda: cluster.kubectl("delete", "namespace", namespace, "--wait=false", check=False))
    request.addfinalizer(lambda: helm(cluster, "uninstall", release, "-n", namespace, check=False))
    # The member ClusterRoles have fixed names, and the session already holds them (installed
    # from this chart by tests/e2e/install.py); the render tests cover them.
    helm(cluster, "install", release, str(CHART), "-n", namespace, "--wait", "--timeout", "120s",
         "--set", "image.repository=registry.example.com/studio-operator", "--set", "image.tag=test",
         "--set", "memberRoles.create=false")

    fullname = f"{release}-studio-operator"
    deploy = cluster.get("deployment", fullname, namespace)
    assert deploy["spec"]["replicas"] == 1
    assert deploy["spec"]["strategy"] == {"type": "Recreate"}
    assert deploy["status"].get("availableReplicas") == 1
    pods = cluster.get("pods", namespace=namespace)["items"]
    assert len(pods) == 1
    pod = pods[0]["spec"]
    (container,) = pod["containers"]
    assert container["image"] == "registry.example.com/studio-operator:test"
    assert "--liveness=http://0.0.0.0:8080/healthz" in container["args"]
    assert "--metrics-port=8081" in container["args"]
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "health", "scheme": "HTTP"}
    assert pod["serviceAccountName"] == fullname
    assert {p["name"]: p["containerPort"] for p in container["ports"]} == {"health": 8080, "metrics": 8081,
                                                                            "webhook": 9443}
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["STUDIO_WEBHOOK_SERVICE"] == f"{fullname}-webhook" and env["STUDIO_WEBHOOK_ADDR"] == "0.0.0.0"
    webhook = cluster.get("service", f"{fullname}-webhook", namespace)
    assert webhook["spec"]["ports"] == [{"name": "webhook", "port": 443, "targetPort": "webhook", "protocol": "TCP"}]
    # Under kwok the image never runs, so no webhook configuration points at this release.
    assert f"{fullname}-webhook" not in cluster.kubectl("get", "validatingwebhookconfigurations", "-o", "yaml",
                                                         check=False).stdout

    # The release's own least-privilege role is bound to the pod's ServiceAccount.
    binding = cluster.get("clusterrolebinding", fullname)
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": fullname, "namespace": namespace}]
    can = cluster.kubectl("auth", "can-i", "create", "pods", f"--as=system:serviceaccount:{namespace}:{fullname}",
                          "-n", "default", check=False).stdout.strip()
    cannot = cluster.kubectl("auth", "can-i", "get", "secrets", f"--as=system:serviceaccount:{namespace}:{fullname}",
                             "-n", "default", check=False).stdout.strip()
    assert (can, cannot) == ("yes", "no")

    notes = json.loads(helm(cluster, "status", release, "-n", namespace, "-o", "json").stdout)["info"]["notes"]
    assert f"rollout status deployment/{fullname}" in notes

    helm(cluster, "uninstall", release, "-n", namespace, "--wait")
    assert cluster.get("clusterrole", fullname) is None
    assert cluster.get("crd", "codestudios.studio.dev") is not None  # Helm never deletes CRDs (and so, studios)


# The documented command that upgrades the CRDs of a Helm release (Helm never does).
CRD_UPGRADE = "kubectl apply --server-side --force-conflicts -f helm/studio-operator/crds/"


def crd_copies(directory: pathlib.Path, group: str, description: str) -> list[str]:
    """The chart's CRDs moved to another API group (so the session's own CRDs stay untouched),
    with this description on each schema; their names."""
    directory.mkdir(parents=True)
    names = []
    for path in sorted((CHART / "crds").glob("*.yaml")):
        crd = yaml.safe_load(path.read_text().replace("studio.dev", group))
        # kubectl's names for the kinds are the session's: the copies must not shadow them, not
        # even from kubectl's discovery cache once they are gone (a later `kubectl get
        # codestudios` would ask for the copies' group, and find nothing).
        spec_names = crd["spec"]["names"]
        spec_names.pop("shortNames", None)
        spec_names.pop("categories", None)
        for key in ("plural", "singular"):
            spec_names[key] = f"upgrade{spec_names[key]}"
        spec_names["kind"] = f"Upgrade{spec_names['kind']}"
        spec_names.pop("listKind", None)  # the API server's default: the kind and "List"
        crd["metadata"]["name"] = f"{spec_names['plural']}.{group}"
        for version in crd["spec"]["versions"]:
            version["schema"]["openAPIV3Schema"]["description"] = description
        (directory / path.name).write_text(yaml.safe_dump(crd))
        names.append(crd["metadata"]["name"])
    return names


def test_the_documented_crd_upgrade_updates_crds_helm_installed(cluster: Cluster, tmp_path: pathlib.Path, request):
    """Helm creates the CRDs under its own field manager; a plain server-side apply of newer ones
    then fails with `conflict with "helm" ... .spec.versions`, so the documented command must
    take them over."""
    for doc in (CHART / "README.md", ROOT / "docs" / "operations.md",
                ROOT / "docs" / "decisions" / "0021-crds-in-the-chart-crds-folder.md"):
        assert CRD_UPGRADE in " ".join(doc.read_text().split()), doc
    assert CRD_UPGRADE.replace("helm/studio-operator", "<chart>") in (CHART / "templates" / "NOTES.txt").read_text()

    group = f"{unique_name('crd-upgrade')}.example.com"
    old = tmp_path / "old"
    names = crd_copies(old / "crds", group, "the previous release")
    (old / "Chart.yaml").write_text(yaml.safe_dump({"apiVersion": "v2", "name": "crds", "version": "0.0.1"}))
    release = unique_name("crds", max_len=16)
    request.addfinalizer(lambda: cluster.kubectl("delete", "crd", *names, "--ignore-not-found", "--wait=false", check=False))
    request.addfinalizer(lambda: helm(cluster, "uninstall", release, "-n", "default", check=False))
    helm(cluster, "install", release, str(old), "-n", "default")
    crd = json.loads(cluster.kubectl("get", "crd", names[0], "-o", "json", "--show-managed-fields").stdout)
    assert "helm" in {f["manager"] for f in crd["metadata"]["managedFields"]}

    new = tmp_path / "new"
    crd_copies(new / "helm" / "studio-operator" / "crds", group, "this release")
    proc = subprocess.run(["bash", "-c", CRD_UPGRADE], cwd=new, env=cluster.env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    for name in names:
        versions = cluster.get("crd", name)["spec"]["versions"]
        assert {v["schema"]["openAPIV3Schema"]["description"] for v in versions} == {"this release"}


def readme_kubectl_install() -> str:
    """The README's `kubectl` install command (the lines from `sed` to the apply)."""
    readme = (ROOT / "README.md").read_text()
    start = readme.index("sed 's|image: studio-operator:|")
    return readme[start:readme.index("kubectl apply --server-side -f -", start) + len("kubectl apply --server-side -f -")]


def test_the_readme_kubectl_install_also_upgrades_keeping_the_registry(cluster: Cluster, tmp_path: pathlib.Path,
                                                                         request):
    """Run twice, for this release and the next, the README's command leaves the Deployment on
    the user's registry at the new version. (`kubectl set image` after the apply, as the README
    had it, made the next apply fail: `conflict with "kubectl-set" ... image`.)"""
    command = readme_kubectl_install()
    namespace = unique_name("kubectl-install")
    cluster.kubectl("create", "namespace", namespace)
    request.addfinalizer(lambda: cluster.kubectl("delete", "namespace", namespace, "--wait=false", check=False))
    # The file's Deployment alone, in a namespace of its own: the session's operator keeps its objects.
    (deploy,) = [d for d in yaml.safe_load_all((ROOT / "manifests" / "install.yaml").read_text())
                 if d and d["kind"] == "Deployment"]
    deploy["metadata"]["namespace"] = namespace
    image = deploy["spec"]["template"]["spec"]["containers"][0]["image"]
    assert image.startswith("studio-operator:")
    manifests = tmp_path / "manifests"
    manifests.mkdir()
    for version in ("0.1.0", "0.2.0"):
        deploy["spec"]["template"]["spec"]["containers"][0]["image"] = f"studio-operator:{version}"
        (manifests / "install.yaml").write_text(yaml.safe_dump(deploy))
        proc = subprocess.run(["bash", "-euo", "pipefail", "-c", command], cwd=tmp_path, env=cluster.env,
                              capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
        (container,) = cluster.get("deployment", deploy["metadata"]["name"], namespace)["spec"]["template"]["spec"][
            "containers"]
        assert container["image"] == f"registry.example.com/studio-operator:{version}"
