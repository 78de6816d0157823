"""The container files name what exists and ship every package the app imports."""

from __future__ import annotations

import ast
from pathlib import Path

import yaml

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
