"""`studioctl doctor`: diagnoses an installation (or one workspace) and repairs what is safe.

Each check is a function returning Findings; `diagnose` runs them all in order. With
`Options.fix`, repairs never delete anything: they only recreate what the operator would.
"""

from __future__ import annotations

from ..client import Client
from ..client.resources import CODE_STUDIOS, TEMPLATES, WORKSPACES
from ..client.workspaces import namespace_of
from ..conditions import now
from .findings import Finding, healthy, problem, render, summary
from .install import check_crds, check_operator, check_registry, check_storage, check_webhooks
from .options import Options
from .stuck import check_stuck
from .workspaces import check_member_roles, check_workspace

__all__ = ["Finding", "Options", "diagnose", "healthy", "render", "summary"]


def diagnose(client: Client, options: Options) -> list[Finding]:
    findings = check_crds(client, options)
    if any(f.status == "problem" for f in findings):
        return findings  # without the CRDs, nothing else can be asked
    findings += check_operator(client, options)
    findings += check_webhooks(client, options)
    workspaces = client.objects(WORKSPACES).list()
    studios = client.objects(CODE_STUDIOS).list()
    templates = client.objects(TEMPLATES).list()
    if options.workspace:
        workspaces = [w for w in workspaces if w["metadata"]["name"] == options.workspace]
        if not workspaces:
            return findings + [problem("workspace", f"workspace/{options.workspace}", "does not exist",
                                       "studioctl ws list shows the workspaces")]
        studios = [s for s in studios if s["metadata"]["namespace"] == namespace_of(workspaces[0])]
        used = {s["spec"].get("template") for s in studios}
        templates = [t for t in templates if t["metadata"]["name"] in used]
    findings += check_storage(client, workspaces)
    findings += check_registry(client, options, templates)
    findings += check_member_roles(client)
    for ws in workspaces:
        findings += check_workspace(client, ws, options.fix)
    findings += check_stuck(options, now(), workspaces, studios, templates)
    return findings
