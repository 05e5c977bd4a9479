"""Generated parts of the Helm chart, and manifests/install.yaml rendered from it.

    python -m hack.chart            write the chart's copies (`make chart`)
    python -m hack.chart --helm H   also render manifests/install.yaml with helm H (`make manifests`)
    --check                         write nothing; exit 1 when a file is out of date

The chart's crds/ are copies of crds/ (generated from the API models), its files/member-roles/
copies of manifests/rbac/ (the ClusterRoles workspace members are bound to), its ClusterRole's and
Role's rules come from operator/studio_operator/permissions.py, and its README's table of values
from the comments in values.yaml; tests fail when any of them drifts.
"""

from __future__ import annotations

import argparse
import json
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
    for role in sorted((root / "manifests" / "rbac").glob("*.yaml")):
        files[chart / "files" / "member-roles" / role.name] = role.read_text()
    files[chart / "templates" / "clusterrole.yaml"] = _role("ClusterRole", cluster_role_rules())
    files[chart / "templates" / "role.yaml"] = _role("Role", namespace_role_rules())
    files[chart / "README.md"] = chart_readme(chart)
    return files


VALUES_MARKER = "<!-- The table below is generated from values.yaml by `make chart`. -->\n"


def values_table(values_yaml: str) -> str:
    """A Markdown table of the documented values: every `# -- ` comment and the key under it.

    A leaf value without such a comment is an error: every value is documented.
    """
    defaults = yaml.safe_load(values_yaml)
    rows, doc, stack, documented = [], None, [], set()
    for line in values_yaml.splitlines():
        text = line.strip()
        if not text:
            continue
        indent = len(line) - len(line.lstrip())
        if text.startswith("# -- "):
            doc = [text[5:]]
        elif text.startswith("#"):
            if doc is not None:
                doc.append(text.lstrip("# "))
        else:
            key = text.split(":", 1)[0]
            stack = [(i, k) for i, k in stack if i < indent] + [(indent, key)]
            path = [k for _, k in stack]
            if any(tuple(path[:n]) in documented for n in range(1, len(path))):
                doc = None
                continue  # inside a value documented as a whole (e.g. a security context)
            value = defaults
            for k in path:
                value = value[k]
            if doc is not None:
                documented.add(tuple(path))
                default = json.dumps(value, separators=(", ", ": "))
                rows.append(f"| `{'.'.join(path)}` | `{default}` | {' '.join(doc)} |")
            elif not isinstance(value, dict) or not value:
                raise ValueError(f"values.yaml: {'.'.join(path)} has no `# -- ` comment")
            doc = None
    return "| value | default | description |\n| --- | --- | --- |\n" + "\n".join(rows) + "\n"


def chart_readme(chart: pathlib.Path) -> str:
    text = (chart / "README.md").read_text()
    head = text.split(VALUES_MARKER, 1)[0]
    return head + VALUES_MARKER + "\n" + values_table((chart / "values.yaml").read_text())


def render_install(helm: str, chart: pathlib.Path = CHART) -> str:
    """manifests/install.yaml: the chart with its defaults, CRDs and a restricted Namespace."""
    out = subprocess.run(
        [helm, "template", RELEASE, str(chart), "--namespace", NAMESPACE, "--include-crds",
         "--set", "createNamespace=true", "--kube-version", KUBE_VERSION],
        check=True, capture_output=True, text=True,
    ).stdout
    header = (f"# Studio Operator: `kubectl apply --server-side -f -` of this file installs it in {NAMESPACE}, once\n"
              "# its image is pointed at your registry (README.md: Install in a cluster).\n"
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
