"""Checks of the installation: CRDs, the operator, its webhooks, storage, registry secrets."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from ..api import GROUP, VERSION
from ..api.crd import build_crds
from ..client import Client, NotFound, StudioError
from ..client.resources import CODE_STUDIOS, TEMPLATES, WORKSPACES
from .findings import Finding, ok, problem
from .options import Options

OPERATOR = "studio-operator"
# How the Helm chart labels the operator's Deployment, whatever the release is called.
OPERATOR_SELECTOR = f"app.kubernetes.io/name={OPERATOR},app.kubernetes.io/component=operator"
INSTALL_HINT = "install or upgrade the operator (helm upgrade --install, or kubectl apply -f manifests/install.yaml)"


def _without_empty(node: Any) -> Any:
    """The API server drops empty lists and maps (e.g. `required: []`) when it stores a CRD."""
    if isinstance(node, dict):
        return {k: _without_empty(v) for k, v in node.items() if v not in ([], {})}
    if isinstance(node, list):
        return [_without_empty(v) for v in node]
    return node


def check_crds(client: Client, options: Options) -> list[Finding]:
    """Each CRD installed, Established, serving and storing v1alpha1 with this release's schema."""
    findings = []
    for expected in build_crds():
        name = expected["metadata"]["name"]
        subject = f"crd/{name}"
        try:
            crd = client.request("GET", f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{name}")
        except NotFound:
            findings.append(problem("crds", subject, "not installed", f"kubectl apply --server-side -f crds/ ({INSTALL_HINT})"))
            continue
        versions = {v["name"]: v for v in crd["spec"]["versions"]}
        established = any(c["type"] == "Established" and c["status"] == "True" for c in (crd.get("status") or {}).get("conditions") or [])
        ours = versions.get(VERSION)
        if not ours or not ours.get("served") or not ours.get("storage"):
            findings.append(problem("crds", subject, f"does not serve and store {VERSION} (has {', '.join(versions) or 'none'})",
                                    f"apply the CRDs of this release: {INSTALL_HINT}"))
        elif not established:
            findings.append(problem("crds", subject, "not Established; the API server rejected it",
                                    f"kubectl get crd {name} -o yaml shows why in status.conditions"))
        elif _without_empty(ours.get("schema")) != _without_empty(expected["spec"]["versions"][0]["schema"]):
            findings.append(problem("crds", subject, f"schema differs from this studioctl's {VERSION} (another release is installed)",
                                    f"use the studioctl of the installed release, or {INSTALL_HINT}"))
        else:
            findings.append(ok("crds", subject, f"{VERSION} served and stored, Established, schema as expected"))
    return findings


def _deployment_health(client: Client, deployment: dict[str, Any]) -> Finding:
    meta = deployment["metadata"]
    subject = f"deployment/{meta['namespace']}/{meta['name']}"
    want = deployment["spec"].get("replicas", 1)
    ready = (deployment.get("status") or {}).get("readyReplicas", 0)
    if want > 1:
        return problem("operator", subject, f"{want} replicas would reconcile the same objects",
                       f"kubectl -n {meta['namespace']} scale deployment {meta['name']} --replicas=1")
    if ready < 1:
        selector = ",".join(f"{k}={v}" for k, v in deployment["spec"]["selector"].get("matchLabels", {}).items())
        pods = client.request("GET", f"/api/v1/namespaces/{meta['namespace']}/pods", {"labelSelector": selector})["items"]
        reasons = sorted({
            (cs.get("state") or {}).get("waiting", {}).get("reason") or p["status"].get("phase", "Pending")
            for p in pods for cs in p["status"].get("containerStatuses") or [{}]
        })
        why = f" (pods: {', '.join(reasons)})" if reasons else " (no pods)"
        return problem("operator", subject, f"not running: 0 of {want} replicas ready{why}",
                       f"kubectl -n {meta['namespace']} describe deployment {meta['name']}; "
                       f"kubectl -n {meta['namespace']} logs deployment/{meta['name']}")
    return ok("operator", subject, f"running, {ready} of {want} ready (its liveness probe passes)")


def _url_health(url: str) -> Finding:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return ok("operator", url, f"healthy (HTTP {resp.status})")
    except urllib.error.HTTPError as exc:
        return problem("operator", url, f"unhealthy: HTTP {exc.code}", "read the operator's log; kopf answers 500 while a probe fails")
    except OSError as exc:
        reason = getattr(exc, "reason", exc)
        return problem("operator", url, f"not running: {reason}", "start the operator (studio-operator --liveness URL) or fix --operator-url")


def check_operator(client: Client, options: Options) -> list[Finding]:
    """Running, healthy and the only one: the Deployment(s) a real install has, and the liveness
    endpoint of an operator run outside the cluster (--operator-url)."""
    labelled = client.request("GET", "/apis/apps/v1/deployments", {"labelSelector": OPERATOR_SELECTOR})["items"]
    try:
        named = [client.request("GET", f"/apis/apps/v1/namespaces/{options.operator_namespace}/deployments/{OPERATOR}")]
    except NotFound:
        named = []
    deployments = {(d["metadata"]["namespace"], d["metadata"]["name"]): d for d in labelled + named}
    findings = [_deployment_health(client, d) for d in deployments.values()]
    if len(deployments) > 1:
        where = ", ".join(f"{ns}/{name}" for ns, name in deployments)
        findings.append(problem("operator", "deployments", f"{len(deployments)} operators would reconcile the same objects: {where}",
                                "keep one release of the operator and uninstall the others"))
    if options.operator_url:
        findings.append(_url_health(options.operator_url))
    if not findings:
        findings.append(problem(
            "operator", f"deployment/{options.operator_namespace}/{OPERATOR}",
            f"no operator is running: no Deployment {OPERATOR} in {options.operator_namespace} "
            f"(nor one labelled {OPERATOR_SELECTOR}), and no --operator-url to ask",
            f"{INSTALL_HINT}; for an operator run by hand, pass --operator-url http://127.0.0.1:PORT/healthz",
        ))
    return findings


PROBES = {
    kind.plural: (kind, kind.body("studioctl-doctor-probe", spec, "default"))
    for kind, spec in (
        (WORKSPACES, {}),
        (TEMPLATES, {"image": {"prebuilt": "doctor.invalid/probe"}}),
        (CODE_STUDIOS, {"template": "studioctl-doctor-probe"}),
    )
}


def _probe(client: Client, plural: str) -> str | None:
    """A server-side dry-run create passes through the admission webhooks without storing
    anything; the error says whether a webhook could not be called. None when it could."""
    kind, body = PROBES[plural]
    try:
        client.objects(kind).create(body, dry_run=True)
    except StudioError as exc:
        if "failed calling webhook" in str(exc) or "failed to call webhook" in str(exc):
            return str(exc)
    return None


# The operator's webhook configurations outlive it: nothing removes them on `helm uninstall` or
# when an upgrade turns webhook.enabled off, and their Service is gone.
GONE_HINT = ("the operator that registered it was uninstalled or had its webhooks turned off: delete its "
             "configurations (kubectl delete validatingwebhookconfiguration,mutatingwebhookconfiguration {name}), "
             "or install the operator again")
RUNNING_HINT = "check that the operator runs and serves its webhook (see the operator check above)"


def _endpoint_problem(client: Client, webhook: dict[str, Any]) -> tuple[str, str] | None:
    """What keeps the API server from calling this webhook, and the next step; None when nothing."""
    config = webhook.get("clientConfig") or {}
    if config.get("service"):
        svc = config["service"]
        try:
            client.request("GET", f"/api/v1/namespaces/{svc['namespace']}/services/{svc['name']}")
        except NotFound:
            return f"its Service {svc['namespace']}/{svc['name']} does not exist", GONE_HINT
        slices = client.request("GET", f"/apis/discovery.k8s.io/v1/namespaces/{svc['namespace']}/endpointslices",
                                {"labelSelector": f"kubernetes.io/service-name={svc['name']}"})["items"]
        if not any((e.get("conditions") or {}).get("ready") for s in slices for e in s.get("endpoints") or []):
            return f"its Service {svc['namespace']}/{svc['name']} has no ready endpoint", RUNNING_HINT
        return None
    url = urllib.parse.urlsplit(config.get("url", ""))
    try:
        socket.create_connection((url.hostname, url.port or 443), timeout=3).close()
    except OSError as exc:
        return f"{url.hostname}:{url.port or 443} does not answer ({exc})", RUNNING_HINT
    return None


def check_webhooks(client: Client, options: Options) -> list[Finding]:
    """Every admission webhook for studio.dev resolves to something that answers, and the API
    server can call it (a dry-run create of each kind it covers)."""
    webhooks = []
    for kind in ("validating", "mutating"):
        for config in client.request("GET", f"/apis/admissionregistration.k8s.io/v1/{kind}webhookconfigurations")["items"]:
            for hook in config.get("webhooks") or []:
                if any(GROUP in (rule.get("apiGroups") or []) for rule in hook.get("rules") or []):
                    webhooks.append((f"{kind}webhookconfiguration/{config['metadata']['name']}", hook))
    if not webhooks:
        return [problem("webhooks", f"{GROUP} admission", "no admission webhook is registered for studio.dev: owner "
                        "defaulting, owner-change rules and delete protection are off",
                        "the operator registers its webhooks when it starts, unless they are turned off (the chart's "
                        "webhook.enabled=false, STUDIO_WEBHOOK_MANAGED=false); check the operator and its settings")]
    findings = []
    probed: dict[str, str | None] = {}
    reached: dict[str, tuple[str, str] | None] = {}  # the webhooks share one endpoint: ask about it once
    for configuration, hook in webhooks:
        subject = f"{configuration} ({hook['name']})"
        endpoint = json.dumps(hook.get("clientConfig") or {}, sort_keys=True)
        if endpoint not in reached:
            reached[endpoint] = _endpoint_problem(client, hook)
        failure, hint = reached[endpoint] or (None, RUNNING_HINT)
        for rule in hook.get("rules") or []:
            if failure is None and {"CREATE", "*"} & set(rule.get("operations") or []):
                for plural in (r for r in rule.get("resources") or [] if r in PROBES):
                    if plural not in probed:
                        probed[plural] = _probe(client, plural)
                    failure = failure or probed[plural]
        if failure:
            policy = hook.get("failurePolicy", "Fail")
            effect = "requests it covers are refused" if policy == "Fail" else "its checks are skipped"
            findings.append(problem("webhooks", subject, f"not reachable: {failure}; failurePolicy {policy}, so {effect}",
                                    hint.format(name=configuration.split("/", 1)[1])))
        else:
            findings.append(ok("webhooks", subject, "reachable"))
    return findings


def check_storage(client: Client, workspaces: list[dict[str, Any]]) -> list[Finding]:
    """A StorageClass for every studio volume: the one a workspace names, else the default."""
    classes = client.request("GET", "/apis/storage.k8s.io/v1/storageclasses")["items"]
    names = {c["metadata"]["name"] for c in classes}
    defaults = sorted(c["metadata"]["name"] for c in classes
                      if (c["metadata"].get("annotations") or {}).get("storageclass.kubernetes.io/is-default-class") == "true")
    findings = []
    for ws in workspaces:
        wanted = ((ws["spec"].get("defaults") or {}).get("storageClassName"))
        if wanted and wanted not in names:
            findings.append(problem("storage", f"workspace/{ws['metadata']['name']}",
                                    f"spec.defaults.storageClassName {wanted} does not exist; its studios' volumes stay Pending",
                                    f"create StorageClass {wanted}, or set spec.defaults.storageClassName to one of: {', '.join(sorted(names)) or 'none'}"))
        elif not wanted and not defaults:
            findings.append(problem("storage", f"workspace/{ws['metadata']['name']}",
                                    "names no StorageClass and the cluster has no default one; its studios' volumes stay Pending",
                                    "mark a StorageClass default (storageclass.kubernetes.io/is-default-class=true) "
                                    "or set spec.defaults.storageClassName"))
    if not findings:
        which = f"default StorageClass {', '.join(defaults)}" if defaults else "no default StorageClass, none needed"
        findings.append(ok("storage", "storageclasses", which))
    return findings


def check_registry(client: Client, options: Options, templates: list[dict[str, Any]]) -> list[Finding]:
    """The push secret of every template that builds its image, in the operator's namespace."""
    findings = []
    for t in templates:
        build = (t["spec"].get("image") or {}).get("build")
        ref = ((build or {}).get("registry") or {}).get("pushSecretRef")
        if not ref:
            continue
        subject = f"codestudiotemplate/{t['metadata']['name']}"
        try:
            secret = client.request("GET", f"/api/v1/namespaces/{options.operator_namespace}/secrets/{ref['name']}")
        except NotFound:
            findings.append(problem("registry", subject, f"push secret {options.operator_namespace}/{ref['name']} does not exist; builds cannot push",
                                    f"kubectl -n {options.operator_namespace} create secret docker-registry {ref['name']} "
                                    "--docker-server=... --docker-username=... --docker-password=..."))
            continue
        if secret.get("type") != "kubernetes.io/dockerconfigjson":
            findings.append(problem("registry", subject, f"push secret {ref['name']} is of type {secret.get('type')}, not kubernetes.io/dockerconfigjson",
                                    "recreate it with kubectl create secret docker-registry"))
        else:
            findings.append(ok("registry", subject, f"push secret {options.operator_namespace}/{ref['name']} present"))
    return findings or [ok("registry", "codestudiotemplates", "no template pushes with a secret")]
