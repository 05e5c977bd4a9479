"""Studio Operator: team Workspaces, CodeStudios and CodeStudioTemplates on Kubernetes."""

__version__ = "0.1.0"
