"""Generated parts of the Helm chart, and manifests/install.yaml rendered from it.

    python -m hack.chart            write the chart's copies (`make chart`)
    python -m hack.chart --helm H   also render manifests/install.yaml with helm H (`make manifests`)
    --check                         write nothing; exit 1 when a file is out of date

The chart's crds/ are copies of crds/ (generated from the API models), and its ClusterRole's
and Role's rules come from operator/studio_operator/permissions.py; tests fail when either drifts.
"""

from __future__ import annotations

import argparse
import pathlib
import subprocess
import sys

import yaml

from studio_operator.permissions import cluster_role_rules, namespace_role_rules

ROOT = pathlib.Path(__file__).resolve().parents[1]
CHART = ROOT / "helm" / "studio-operator"
INSTALL = ROOT / "manifests" / "install.yaml"
# What `kubectl apply -f manifests/install.yaml` installs: the default release.
RELEASE, NAMESPACE = "studio-operator", "studio-system"
# The chart's oldest supported Kubernetes: helm built from source defaults to v1.20 otherwise.
KUBE_VERSION = "1.30.0"

ROLE = """\
{{{{- /* Generated from operator/studio_operator/permissions.py by `make chart`. Do not edit. */}}}}
{{{{- if .Values.rbac.create }}}}
apiVersion: rbac.authorization.k8s.io/v1
kind: {kind}
metadata:
  name: {{{{ include "studio-operator.fullname" . }}}}{namespace}
  labels:
    {{{{- include "studio-operator.labels" . | nindent 4 }}}}
rules:
{rules}{{{{- end }}}}
"""


def _role(kind: str, rules: list) -> str:
    namespace = "\n  namespace: {{ .Release.Namespace }}" if kind == "Role" else ""
    text = yaml.safe_dump(rules, sort_keys=False, default_flow_style=None, width=120)
    return ROLE.format(kind=kind, namespace=namespace, rules=text)


def chart_files(root: pathlib.Path = ROOT) -> dict[pathlib.Path, str]:
    """Chart files derived from the rest of the repository, by path."""
    chart = root / "helm" / "studio-operator"
    files = {chart / "crds" / crd.name: crd.read_text() for crd in sorted((root / "crds").glob("*.yaml"))}
    files[chart / "templates" / "clusterrole.yaml"] = _role("ClusterRole", cluster_role_rules())
    files[chart / "templates" / "role.yaml"] = _role("Role", namespace_role_rules())
    return files


def render_install(helm: str, chart: pathlib.Path = CHART) -> str:
    """manifests/install.yaml: the chart with its defaults, CRDs and a restricted Namespace."""
    out = subprocess.run(
        [helm, "template", RELEASE, str(chart), "--namespace", NAMESPACE, "--include-crds",
         "--set", "createNamespace=true", "--kube-version", KUBE_VERSION],
        check=True, capture_output=True, text=True,
    ).stdout
    header = (f"# Studio Operator: `kubectl apply --server-side -f manifests/install.yaml` installs it in {NAMESPACE}.\n"
              "# Rendered from helm/studio-operator by `make manifests`. Do not edit.\n")
    return header + out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--helm", help="helm binary: also render manifests/install.yaml")
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    files = chart_files()
    stale = _stale(files)
    if not args.check:
        _write(files, stale)
    if args.helm:
        # Rendered from the chart as written (with --check, only an up-to-date chart renders true).
        install = {INSTALL: render_install(args.helm)}
        stale += _stale(install)
        if not args.check:
            _write(install, stale)
    if args.check and stale:
        print("out of date (run `make manifests`): " + ", ".join(str(p.relative_to(ROOT)) for p in stale), file=sys.stderr)
        return 1
    return 0


def _stale(files: dict[pathlib.Path, str]) -> list[pathlib.Path]:
    return [p for p, text in files.items() if not p.exists() or p.read_text() != text]


def _write(files: dict[pathlib.Path, str], paths: list[pathlib.Path]) -> None:
    for path in paths:
        if path in files:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(files[path])


if __name__ == "__main__":
    sys.exit(main())
