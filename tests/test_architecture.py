"""The layers of docs/architecture.md hold: import-linter's contract is kept, and it can fail."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


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


def test_the_layer_contract_is_kept():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "Contracts: 1 kept, 0 broken." in result.stdout


def test_a_core_module_importing_a_stage_breaks_the_contract(tmp_path):
    copy = tmp_path / "tree"
    for name in ("lakestream", "simulator", "producers", "consumers", "engines", "glue"):
        shutil.copytree(ROOT / name, copy / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "athena_api", copy / "athena_api")
    shutil.copy(ROOT / "pyproject.toml", copy / "pyproject.toml")
    errors = copy / "lakestream" / "core" / "errors.py"
    errors.write_text(errors.read_text() + "\nimport consumers.sink  # noqa\n")
    result = lint_imports(copy)
    assert result.returncode == 1
    assert "lakestream.core.errors -> consumers.sink" in result.stdout
