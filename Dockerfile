# The app runs from its source folder (never pip-installed: its slack/ package would shadow slack_sdk's).
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DATABASE_PATH=/data/bridge.db \
    PORT=3000

WORKDIR /app
COPY requirements.txt ./
RUN pip install -r requirements.txt

COPY app.py runtime.py runtime_desk.py commands.py settings.py settings_reader.py safe_text.py safe_yaml.py desk.py manifest.yml persona.example.yml desk.example.yml ./
COPY fanvue/ fanvue/
COPY inbox/ inbox/
COPY drafting/ drafting/
COPY slack/ slack/
COPY store/ store/

RUN useradd --create-home --uid 10001 inbox && mkdir -p /data && chown inbox /data
USER inbox
VOLUME ["/data"]
EXPOSE 3000

# /healthz is served in HTTP mode; in Socket Mode (SLACK_APP_TOKEN set) there is no port to ask.
HEALTHCHECK --interval=60s --timeout=5s CMD test -n "$SLACK_APP_TOKEN" || python -c "import os, urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ.get(\"PORT\", \"3000\")}/healthz', timeout=4)" || exit 1

# `run` by default; `docker compose run --rm inbox login`, `... once`, `... audit` work the same way.
ENTRYPOINT ["python", "app.py"]
CMD ["run"]
