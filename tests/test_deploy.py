"""The container files name what exists and ship every package the app imports."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from urllib.parse import urlsplit

import yaml

import settings

ROOT = Path(__file__).resolve().parents[1]


def _copied() -> set[str]:
    sources: set[str] = set()
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        if line.startswith("COPY "):
            sources.update(part.rstrip("/") for part in line.split()[1:-1])
    return sources


def _local_imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return {n for n in names if (ROOT / n).is_dir() or (ROOT / f"{n}.py").is_file()}


def test_every_copied_path_exists():
    for source in _copied():
        assert (ROOT / source).exists(), f"Dockerfile copies {source}, which does not exist"


def test_the_image_carries_every_package_the_app_imports():
    shipped = {s.removesuffix(".py") for s in _copied()}
    needed: set[str] = set()
    for package in ("fanvue", "inbox", "drafting", "slack", "store"):
        for path in (ROOT / package).rglob("*.py"):
            needed |= _local_imports(path)
    needed |= _local_imports(ROOT / "app.py") | _local_imports(ROOT / "settings.py")
    needed.discard("demo")  # `app.py demo` runs from a checkout only; the image says so
    assert needed <= shipped, f"not in the image: {sorted(needed - shipped)}"


def test_compose_keeps_the_database_on_a_volume():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    service = compose["services"]["inbox"]
    database = service["environment"]["DATABASE_PATH"]
    mounts = [v.split(":")[1] for v in service["volumes"]]
    assert any(database.startswith(m.rstrip("/") + "/") for m in mounts)
    assert set(compose["volumes"]) == {v.split(":")[0] for v in service["volumes"]}


def test_the_image_carries_no_stand_in_demo_bench_or_test_code():
    copied = {source.split("/")[0] for source in _copied()}
    assert not copied & {"standins", "demo", "bench", "tests", "."}, sorted(copied)


_VARIABLE = re.compile(r"\$\{(\w+)(?::?-([^}]*))?\}")


def _compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def _published(port: str, env: dict[str, str] | None = None) -> tuple[str, int, int]:
    """host address, host port, container port of a `ports` entry, as compose interpolates it."""
    text = _VARIABLE.sub(lambda m: (env or {}).get(m.group(1)) or m.group(2) or "", port)
    host, host_port, container_port = text.rsplit(":", 2)
    return host, int(host_port), int(container_port)


def _seconds(duration: str) -> float:
    units = {"h": 3600, "m": 60, "s": 1}
    parts = re.findall(r"(\d+(?:\.\d+)?)(h|m|s)", str(duration))
    assert parts and "".join(n + u for n, u in parts) == str(duration), duration
    return sum(float(n) * units[u] for n, u in parts)


def _drain_seconds() -> float:
    """What `run` waits for clicks in progress on SIGTERM."""
    from slack.bolt_app import DRAIN_SECONDS

    return DRAIN_SECONDS


def test_every_published_port_listens_on_this_machine_only_by_default():
    for name, service in _compose()["services"].items():
        for port in service.get("ports", []):
            assert _published(port)[0] == "127.0.0.1", f"{name} publishes {port} on every interface"


def test_the_app_port_can_be_published_wider_and_moved_from_env():
    (port,) = _compose()["services"]["inbox"]["ports"]
    assert _published(port, {"BIND_ADDRESS": "0.0.0.0", "PORT": "8000"}) == ("0.0.0.0", 8000, 3000)


def test_the_container_listens_where_its_port_is_published():
    service = _compose()["services"]["inbox"]
    (port,) = service["ports"]
    assert int(service["environment"]["PORT"]) == _published(port)[2]
    assert service["environment"]["HOST"] == "0.0.0.0"  # the host binding, not the app, limits who reaches it


def test_docker_waits_for_the_drain_before_killing_the_app():
    grace = _seconds(_compose()["services"]["inbox"]["stop_grace_period"])
    # the drain, after the cycle in progress (a minute covers a cycle's posts, one a second, and drafts)
    assert grace >= _drain_seconds() + 60


def test_login_has_its_own_port_so_it_runs_beside_the_app():
    services = _compose()["services"]
    login, app = services["login"], services["inbox"]
    assert login["profiles"] == ["login"]  # `docker compose up` does not start it
    assert login["command"][:1] == ["login"] and login["command"][-2:] == ["--listen", "0.0.0.0"]
    assert login["environment"]["DATABASE_PATH"] == app["environment"]["DATABASE_PATH"]
    assert login["volumes"] == app["volumes"]
    (login_port,) = login["ports"]
    redirect_port = urlsplit(settings.Settings.fanvue_redirect_uri).port
    assert _published(login_port)[1:] == (redirect_port, redirect_port)
    assert _published(login_port)[1] not in {_published(p)[1] for p in app["ports"]}
    assert _published(login_port, {"LOGIN_PORT": "9000"})[1:] == (9000, 9000)


def test_the_readmes_docker_commands_name_services_that_exist():
    readme = (ROOT / "README.md").read_text()
    docker = readme[readme.index("**Docker.**") : readme.index("## Troubleshooting")]
    commands = re.findall(r"^docker compose run ([^#\n]*)", docker, re.MULTILINE)
    assert commands
    services = _compose()["services"]
    for command in commands:
        words = [w for w in command.split() if not w.startswith("-")]
        assert words and words[0] in services, command
    assert "docker compose run --rm --service-ports login" in docker
