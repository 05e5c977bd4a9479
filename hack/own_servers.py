"""Exit 0 when a local cluster's own servers serve it: `python3 hack/own_servers.py CLUSTER_DIR PORT`.

hack/cluster.sh asks this of the cluster kwokctl made in CLUSTER_DIR, whose kubeconfig names PORT.
kwokctl picks free ports when it creates a cluster, and two clusters created at once can pick
the same ones. The component that loses exits, and the port answers for the other cluster: an
etcd that could not bind leaves its API server storing into the other cluster's etcd, and tests
would run among that cluster's objects. So: this cluster's kube-apiserver listens on PORT, and
this cluster's etcd on the port that API server stores into.
"""

import os
import re
import sys


def listening_inodes(port: int) -> set[str]:
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                rows = f.read().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:  # 0A: LISTEN
                inodes.add(fields[9])
    return inodes


def listens(pid: int, port: int) -> bool:
    inodes = listening_inodes(port)
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return False  # no such process
    for fd in fds:
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:[") and target[8:-1] in inodes:
            return True
    return False


def pid_of(cluster: str, component: str) -> int | None:
    try:
        with open(os.path.join(cluster, "pids", f"{component}.pid")) as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        return None


def etcd_port(apiserver: int) -> int | None:
    try:
        with open(f"/proc/{apiserver}/cmdline", "rb") as f:
            args = f.read().decode().split("\0")
    except OSError:
        return None
    for arg in args:
        if match := re.fullmatch(r"--etcd-servers=https?://127\.0\.0\.1:(\d+)", arg):
            return int(match.group(1))
    return None


def own_servers(cluster: str, port: int) -> bool:
    apiserver, etcd = pid_of(cluster, "kube-apiserver"), pid_of(cluster, "etcd")
    if apiserver is None or etcd is None or not listens(apiserver, port):
        return False
    stored = etcd_port(apiserver)
    return stored is not None and listens(etcd, stored)


if __name__ == "__main__":
    sys.exit(0 if own_servers(sys.argv[1], int(sys.argv[2])) else 1)
