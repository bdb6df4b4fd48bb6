# One image for web, worker, beat and the sandbox.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app

COPY pyproject.toml README.md ./
COPY storefront storefront
COPY catalog catalog
COPY checkout checkout
COPY accounts accounts
COPY sandbox sandbox
COPY templates templates
COPY manage.py ./
RUN pip install --no-cache-dir . \
 && useradd --system --uid 10001 storefront \
 && mkdir -p /app/var && chown storefront /app/var \
 && DJANGO_SECRET_KEY=build-only python manage.py collectstatic --noinput -v 0

USER storefront
EXPOSE 8000
# 2 cores: 2 workers x 8 threads; requests are I/O-bound (Redis, Centra).
CMD ["gunicorn", "storefront.wsgi", "--bind", "0.0.0.0:8000", "--workers", "2", \
     "--threads", "8", "--worker-class", "gthread", "--timeout", "30", "--graceful-timeout", "20"]
