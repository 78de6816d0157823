# The app runs from its source folder (never pip-installed: its slack/ package would shadow slack_sdk's).
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    MALLOC_ARENA_MAX=2 \
    DATABASE_PATH=/data/bridge.db \
    PORT=3000

WORKDIR /app
COPY requirements.txt ./
RUN pip install -r requirements.txt

COPY app.py cli_options.py runtime.py runtime_parts.py runtime_pace.py runtime_process.py runtime_desk.py commands.py notes_cli.py settings.py settings_reader.py settings_groups.py safe_text.py safe_yaml.py desk.py desk_entries.py desk_reader.py manifest.yml persona.example.yml desk.example.yml ./
COPY fanvue/ fanvue/
COPY inbox/ inbox/
COPY drafting/ drafting/
COPY slack/ slack/
COPY store/ store/

RUN useradd --create-home --uid 10001 inbox && mkdir -p /data && chown inbox /data
USER inbox
VOLUME ["/data"]
EXPOSE 3000

# /healthz answers 503 when polling keeps failing or the Fanvue login is paused (README: Health check). It is
# served on PORT (and HOST) in both modes: in Socket Mode that port serves /healthz alone.
HEALTHCHECK --interval=60s --timeout=5s CMD python -c "import os, urllib.request; h = os.environ.get('HOST') or '127.0.0.1'; h = {'0.0.0.0': '127.0.0.1', '::': '::1'}.get(h, h); h = f'[{h}]' if ':' in h else h; urllib.request.urlopen(f'http://{h}:{os.environ.get(\"PORT\", \"3000\")}/healthz', timeout=4)" || exit 1

# `run` by default; `docker compose run --rm inbox login`, `... once`, `... audit` work the same way.
ENTRYPOINT ["python", "app.py"]
CMD ["run"]
