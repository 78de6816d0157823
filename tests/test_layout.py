"""The application runs from the repository root: its packages, not installed look-alikes, are imported."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_import_slack_is_our_package_not_slack_sdks_legacy_one():
    import slack

    assert Path(slack.__file__).resolve().parent == ROOT / "slack"


def test_import_slack_from_the_repository_root_in_a_fresh_interpreter():
    done = subprocess.run(
        [sys.executable, "-c", "import slack, fanvue, store, inbox; print(slack.__file__)"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert Path(done.stdout.strip()).resolve().parent == ROOT / "slack"


def test_runtime_requirements_are_pinned():
    lines = [
        line.strip()
        for line in (ROOT / "requirements.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert lines and all("==" in line for line in lines)
    names = {line.split("==")[0].lower() for line in lines}
    assert {"slack-bolt", "slack-sdk", "requests", "apscheduler", "sqlite-utils"} <= names


PRODUCT = ("fanvue", "slack", "inbox", "store", "drafting")
ENTRY_POINTS = (
    "app.py",
    "settings.py",
    "settings_reader.py",
    "settings_groups.py",
    "runtime.py",
    "runtime_parts.py",
    "runtime_pace.py",
    "runtime_process.py",
    "runtime_desk.py",
    "cli_options.py",
    "notes_cli.py",
    "commands.py",
    "safe_text.py",
    "safe_yaml.py",
    "desk.py",
    "desk_entries.py",
    "desk_reader.py",
)
NOT_PRODUCT = {"standins", "demo", "bench", "tests"}


def _imported_top_names(path: Path) -> dict[str, int]:
    """Every top-level module a file imports, at any depth of its code, with the line."""
    names: dict[str, int] = {}
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                names.setdefault(alias.name.split(".")[0], node.lineno)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.setdefault(node.module.split(".")[0], node.lineno)
    return names


def _product_files() -> list[Path]:
    files = [path for package in PRODUCT for path in (ROOT / package).rglob("*.py")]
    return files + [ROOT / name for name in ENTRY_POINTS if (ROOT / name).is_file()]


def test_product_code_never_imports_stand_ins_demo_bench_or_tests():
    offenders = []
    for path in _product_files():
        for name, line in _imported_top_names(path).items():
            # app.py's `demo` command starts the demo from a checkout; the image has no demo (see Dockerfile).
            if name in NOT_PRODUCT and not (path.name == "app.py" and name == "demo"):
                offenders.append(f"{path.relative_to(ROOT)}:{line} imports {name}")
    assert not offenders, offenders


def test_no_stand_in_lives_inside_a_product_package():
    strays = [
        str(p.relative_to(ROOT))
        for package in PRODUCT
        for p in (ROOT / package).rglob("*.py")
        if "standin" in p.name or "sandbox" in p.parts or p.name == "signing.py"
    ]
    assert not strays, strays


def test_the_fanvue_package_speaks_http_only():
    # The Fanvue client is handed a token provider; what keeps a login in the database lives outside it.
    offenders = [
        f"{path.relative_to(ROOT)}:{line} imports {name}"
        for path in (ROOT / "fanvue").rglob("*.py")
        for name, line in _imported_top_names(path).items()
        if name in {"store", "inbox", "slack", "drafting", "settings", "runtime", "commands", "app"}
    ]
    assert not offenders, offenders


def test_tests_demo_and_benchmarks_build_the_app_through_runtime_build():
    # Wiring by hand drifts from what `app.py run` builds; the stand-ins go in through the factory instead.
    wiring = {"Services", "build_app", "CardPublisher", "DrainingExecutor", "LoginWatch", "RefreshingToken"}
    files = [ROOT / "tests" / "harness.py", *(ROOT / "demo").rglob("*.py"), *(ROOT / "bench").rglob("*.py")]
    offenders = [
        f"{path.relative_to(ROOT)}:{node.lineno} calls {node.func.id}"
        for path in files
        for node in ast.walk(ast.parse(path.read_text(), str(path)))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in wiring
    ]
    assert not offenders, offenders
