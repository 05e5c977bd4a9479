"""Runs the Argo CD health checks (manifests/argocd/) as Argo CD does: a Lua 5.1 script with the
live object as the global `obj`, returning {status, message}."""

from __future__ import annotations

import pathlib
from typing import Any

from lupa.lua51 import LuaRuntime

ROOT = pathlib.Path(__file__).resolve().parents[1]
CHECKS = ROOT / "manifests" / "argocd"
KINDS = ("CodeStudio", "CodeStudioTemplate", "Workspace")


def script(kind: str, group: str = "studio.dev") -> pathlib.Path:
    return CHECKS / group / kind / "health.lua"


def health(obj: dict[str, Any]) -> dict[str, str]:
    group = obj["apiVersion"].split("/")[0]
    lua = LuaRuntime(unpack_returned_tuples=False)
    # Argo CD's Lua runtime exposes only safe libraries; the scripts use nothing else.
    lua.globals().obj = lua.table_from(obj, recursive=True)
    result = lua.execute(script(obj["kind"], group).read_text())
    return {key: result[key] for key in ("status", "message") if result[key] is not None}
