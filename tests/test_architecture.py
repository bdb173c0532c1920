"""The layers of docs/architecture.md hold: import-linter's contracts are kept, they can fail,
and a drawing of the top-level packages shows no arrow running back up."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
CONFIG = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
PACKAGES = CONFIG["root_packages"]
# Top to bottom, as docs/architecture.md draws them: each may import only those after it.
ORDER = [
    "orchestration", "athena_api", "glue", "engines", "curation", "consumers", "producers",
    "simulator", "lakestream",
]  # fmt: skip


def lint_imports(cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={"PYTHONPATH": str(cwd), "PATH": "/usr/bin:/bin"},
    )


def test_the_contracts_are_kept():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "Contracts: 2 kept, 0 broken." in result.stdout


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    copy = tmp_path / "tree"
    for name in PACKAGES:
        shutil.copytree(ROOT / name, copy / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", copy / "pyproject.toml")
    return copy


def test_a_core_module_importing_a_stage_breaks_the_contract(tree):
    errors = tree / "lakestream" / "core" / "errors.py"
    errors.write_text(errors.read_text() + "\nimport consumers.sink  # noqa\n")
    result = lint_imports(tree)
    assert result.returncode == 1
    assert "lakestream.core.errors -> consumers.sink" in result.stdout


def test_a_new_ground_module_importing_the_roof_breaks_the_contract(tree):
    # Not in any layer, but in the ground floor's package: the forbidden contract catches it.
    (tree / "lakestream" / "bench.py").write_text("import orchestration.bench.run  # noqa\n")
    result = lint_imports(tree)
    assert result.returncode == 1
    assert "lakestream.bench -> orchestration.bench.run" in result.stdout


def test_the_top_level_drawing_has_no_arrow_up():
    graph = grimp.build_graph(*PACKAGES)
    assert sorted(PACKAGES) == sorted(ORDER)
    arrows = {
        (a, b)
        for a in ORDER
        for b in ORDER
        if a != b and graph.direct_import_exists(importer=a, imported=b, as_packages=True)
    }
    up = sorted((a, b) for a, b in arrows if ORDER.index(b) < ORDER.index(a))
    assert up == []
    # The roof drives the stages: the drawing is not empty by accident.
    assert ("orchestration", "consumers") in arrows
    assert ("consumers", "lakestream") in arrows
