"""The `studio-operator` command runs without the `kubernetes` package loaded (launch.py)."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import sys
from studio_operator.launch import hide_kubernetes
hide_kubernetes()
import kopf
import studio_operator.main, studio_operator.handlers  # every module the operator runs
print(sys.modules["kubernetes"], kopf._cogs.helpers.thirdparty.V1ObjectMetaSync)
"""


def test_the_operator_imports_without_the_kubernetes_package() -> None:
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["None", "None"]


def test_the_command_is_the_launcher() -> None:
    out = subprocess.run([sys.executable, "-c", "from importlib.metadata import entry_points; "
                          "print(entry_points(group='console_scripts')['studio-operator'].value)"],
                         capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "studio_operator.launch:main", out.stderr
