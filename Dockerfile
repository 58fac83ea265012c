# syntax=docker/dockerfile:1
# lims: the application image (docs/deployment.md, section "Containers").
#   docker build -t lims:0.1.0 .
# One image for the web app (`lims serve`, the default command), the migrations
# (`lims db upgrade`), the analyser listener (`lims instruments listen`) and backups.
# The base is Debian bookworm, whose postgresql-client (15) matches the compose file's
# PostgreSQL 15: `lims backup` needs a pg_dump of the server's major version.
ARG PYTHON_VERSION=3.11

FROM python:${PYTHON_VERSION}-slim-bookworm AS build
WORKDIR /src
COPY pyproject.toml setup.py README.md babel.cfg ./
COPY lims ./lims
COPY instruments ./instruments
COPY templates ./templates
COPY migrations ./migrations
# lims and every dependency as wheels (the runtime stage needs no compiler and no network).
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:${PYTHON_VERSION}-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/lims/bin:$PATH \
    LIMS_ENV=production \
    LIMS_LOG_FORMAT=json \
    LIMS_STORAGE_DIR=/var/lib/lims/files
RUN apt-get update \
    && apt-get install -y --no-install-recommends postgresql-client \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /wheels /tmp/wheels
RUN python -m venv /opt/lims \
    && /opt/lims/bin/pip install --no-cache-dir --no-index --find-links /tmp/wheels lims \
    && rm -rf /tmp/wheels
# A system user without a shell; the instance folder (Flask's, inside the venv), the file
# store and the backup folder are the only places it writes.
RUN groupadd --system --gid 10001 lims \
    && useradd --system --uid 10001 --gid lims --home-dir /var/lib/lims \
        --shell /usr/sbin/nologin lims \
    && install -d -o lims -g lims -m 0700 /var/lib/lims /var/lib/lims/files \
        /var/backups/lims /opt/lims/var/lims-instance
USER lims:lims
WORKDIR /var/lib/lims
VOLUME ["/var/lib/lims/files", "/var/backups/lims"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; r = urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4); sys.exit(r.status != 200)"]
CMD ["lims", "serve", "--bind", "0.0.0.0:8000", "--access-log"]
