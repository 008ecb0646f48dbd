# One image for web, worker, beat and the migrate step of docker-compose.yml.
FROM python:3.11-slim-bookworm

# PYTHONPATH=/app: settings.BASE_DIR must be /app (templates/, static/, fixtures/, locale/ live there,
# not in site-packages), so the source tree takes precedence over the installed copy.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=portal.settings \
    PYTHONPATH=/app

# WeasyPrint's system libraries (Pango, HarfBuzz subsetting, fontconfig) and a CJK font for the PDFs.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libpango-1.0-0 \
        libpangoft2-1.0-0 \
        libharfbuzz0b \
        libharfbuzz-subset0 \
        libfontconfig1 \
        shared-mime-info \
        fonts-wqy-zenhei \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --system portal \
    && useradd --system --gid portal --home-dir /app --no-create-home --shell /usr/sbin/nologin portal

WORKDIR /app

# Dependencies first (from pyproject.toml alone) so code changes don't reinstall them.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

COPY . .
RUN pip install --no-deps . \
    && python manage.py collectstatic --noinput -v 0 \
    && mkdir -p var/media \
    && chown -R portal:portal var

USER portal
EXPOSE 8000

# docker-compose.yml sets each service's command; the default is the web process (portal/processes.py).
CMD ["gunicorn", "portal.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "4", "--access-logfile", "-"]
