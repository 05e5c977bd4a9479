"""The `studio-operator` command.

kopf imports the `kubernetes` package whenever it is installed, to accept its models as object
bodies. The operator never hands it one; the package is there for the CLI and the SDK, and
importing it cost every operator process 10 MB of resident memory (bench/README.md). The command
hides it before kopf is imported. kopf's login through that package (exec plugins) is replaced by
the operator's own login handler (kube.connection_info).
"""

from __future__ import annotations

import sys


def hide_kubernetes() -> None:
    # A None entry makes `import kubernetes` raise ImportError, which kopf takes as "not installed".
    sys.modules.setdefault("kubernetes", None)  # type: ignore[arg-type]


def main(argv: list[str] | None = None) -> None:
    hide_kubernetes()
    from .main import main as run_operator

    run_operator(argv)
