# Studio Operator image: `docker build -t <registry>/studio-operator:<version> .`
# The build stage installs the package into a virtualenv (hack/image-venv.sh, which the tests
# run too); the runtime stage is the same slim Python with that virtualenv and nothing else.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1
WORKDIR /src
COPY pyproject.toml requirements.lock README.md ./
COPY operator/ operator/
COPY hack/image-venv.sh hack/
RUN hack/image-venv.sh /opt/studio-operator /src

FROM ${PYTHON_IMAGE}
LABEL org.opencontainers.image.title="studio-operator" \
      org.opencontainers.image.description="Kubernetes operator for team Workspaces, CodeStudios and CodeStudioTemplates" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV PATH=/opt/studio-operator/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
COPY --from=build /opt/studio-operator /opt/studio-operator
# A numeric non-root user, so Kubernetes can verify runAsNonRoot without a passwd lookup.
USER 65532:65532
# The chart's default ports: liveness, metrics, admission webhooks (HTTPS).
EXPOSE 8080 8081 9443
ENTRYPOINT ["studio-operator"]
