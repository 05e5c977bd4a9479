"""CodeStudioTemplate: image builds (dockerfile.py, build.py), rollout of a new image to running
studios (rollout.py), and the reconcile that joins them (plan.py, reconcile.py)."""
