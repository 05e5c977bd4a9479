"""Admission: what is refused at `kubectl apply` time (rules.py, pure), the kopf webhook handlers
that gather what the rules need (webhooks.py), and the HTTPS server they are served from
(server.py). Decisions: docs/decisions/0010-admission-webhooks.md."""
