"""CodeStudio lifecycle: desired children (children.py), observed state (status.py), and the
reconcile that joins them (reconcile.py)."""
