"""Workspaces: a team's namespace with its members' roles, quota and isolation (children.py),
what the operator observes of it (status.py), the reconcile as a pure plan (plan.py) and the glue
that carries it out (reconcile.py)."""
