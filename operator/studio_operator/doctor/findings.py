"""What doctor reports: one Finding per thing it looked at, rendered for people or as JSON."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any, Literal

Status = Literal["ok", "problem", "fixed"]
LABELS = {"ok": "[ok]", "problem": "[PROBLEM]", "fixed": "[FIXED]"}


@dataclasses.dataclass(frozen=True)
class Finding:
    check: str  # which check: crds, operator, webhooks, storage, registry, workspace, stuck
    subject: str  # what was looked at, e.g. "crd/workspaces.studio.dev"
    status: Status
    message: str
    next_step: str = ""  # for a problem: what to do about it

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def ok(check: str, subject: str, message: str) -> Finding:
    return Finding(check, subject, "ok", message)


def problem(check: str, subject: str, message: str, next_step: str) -> Finding:
    return Finding(check, subject, "problem", message, next_step)


def fixed(finding: Finding, what_was_done: str) -> Finding:
    return dataclasses.replace(finding, status="fixed", message=f"{finding.message}; {what_was_done}", next_step="")


def healthy(findings: Iterable[Finding]) -> bool:
    """Healthy when no problem remains (a fixed one no longer counts)."""
    return not any(f.status == "problem" for f in findings)


def summary(findings: list[Finding]) -> str:
    problems = sum(f.status == "problem" for f in findings)
    repaired = sum(f.status == "fixed" for f in findings)
    verdict = "healthy" if not problems else "unhealthy"
    parts = [f"{len(findings)} checked", f"{problems} problem{'s' * (problems != 1)}"]
    if repaired:
        parts.append(f"{repaired} fixed")
    return f"{verdict}: {', '.join(parts)}"


def render(findings: list[Finding]) -> str:
    """One line per finding, the next step under each problem, and a verdict last."""
    width = max(len(label) for label in LABELS.values()) + 1
    check_width = max((len(f.check) for f in findings), default=0) + 2
    lines = []
    for f in findings:
        lines.append(f"{LABELS[f.status]:<{width}}{f.check:<{check_width}}{f.subject}: {f.message}")
        if f.next_step:
            lines.append(f"{'':<{width + check_width}}next: {f.next_step}")
    lines.append(summary(findings))
    return "\n".join(lines)
