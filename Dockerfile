# syntax=docker/dockerfile:1
# Job On the Run API server. Build: docker build -t jotr .
# Run: docker run -e DATABASE_URL=postgresql://user:pass@host:5432/jotr -p 8000:8000 jotr
# (compose.yaml wires it to PostGIS, with a one-shot migrate + ESCO load first.)

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
# Dependencies get their own layer: they change far less often than the code.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > /tmp/requirements.txt \
 && pip install -r /tmp/requirements.txt
COPY . .
RUN pip install --no-deps .

FROM python:3.11-slim
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN groupadd --system --gid 10001 jotr \
 && useradd --system --uid 10001 --gid jotr --home-dir /app --shell /usr/sbin/nologin jotr
COPY --from=build /opt/venv /opt/venv
# `jotr migrate` finds the migrations in its working directory (api/cli.py).
WORKDIR /app
COPY alembic.ini ./
COPY alembic ./alembic
USER jotr
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"]
# `jotr serve` runs uvicorn with the slow-client deadlines, header cap, keep-alive,
# concurrency limit and trusted proxies from the environment (docs/security.md);
# limits count in Redis at REDIS_URL (without one they fail open, with a warning).
CMD ["jotr", "serve", "--host", "0.0.0.0", "--port", "8000"]
