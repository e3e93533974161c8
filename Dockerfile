# One image for every renshe process: `renshe <service> api|relay|worker` (deploy/k8s runs it that way).
#   docker build -t renshe:dev .
#   docker run --rm -p 8101:8101 -e DATABASE_URL=... -e KAFKA_BOOTSTRAP_SERVERS=... renshe:dev registration api
# Pin the base image by digest in your registry mirror for reproducible builds.

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/renshe
WORKDIR /src
# Dependencies first, from pyproject.toml alone, so a code change does not reinstall them.
COPY pyproject.toml README.md ./
RUN mkdir contracts services \
 && touch contracts/__init__.py services/__init__.py \
 && /opt/renshe/bin/pip install . \
 && rm -rf build ./*.egg-info contracts services
COPY contracts ./contracts
COPY services ./services
RUN /opt/renshe/bin/pip install --no-deps --force-reinstall .

FROM python:3.11-slim
# A fixed numeric user, so Kubernetes can verify runAsNonRoot without resolving a name.
RUN groupadd --system --gid 10001 renshe \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin renshe
COPY --from=build /opt/renshe /opt/renshe
# pip compiled the bytecode at install time; the root filesystem is read-only in the cluster.
ENV PATH=/opt/renshe/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HTTP_HOST=0.0.0.0
USER 10001:10001
# APIs: registration 8101, reporting 8105; relays and workers: their ops port (9000 in deploy/k8s).
EXPOSE 8101 8105 9000
ENTRYPOINT ["renshe"]
CMD ["--help"]
