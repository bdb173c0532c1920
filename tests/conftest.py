"""Shared fixtures: one embedded stack per test session, on free ports, in a temporary run folder.

The environment variables are set for the whole session so that code under test, and any
subprocess it starts, finds this stack and never a stack a person has running on the defaults.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from lakestream.core.settings import Settings
from lakestream.stack.embedded import EmbeddedStack
from lakestream.stack.processes import free_port
from lakestream.stack.provision import Outcome
from tests.lake_helpers import Lake, make_lake


@dataclass
class RunningStack:
    settings: Settings
    stack: EmbeddedStack
    first_up: list[Outcome]
    env: dict[str, str]


def stack_env(run_dir: Path) -> dict[str, str]:
    """Environment for a stack of its own: free ports, its own run folder, dummy credentials."""
    return {
        "LAKESTREAM_TARGET": "local",
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}",
        "KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{free_port()}",
        "LAKESTREAM_RUN_DIR": str(run_dir),
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_REGION": "us-east-1",
        "LAKESTREAM_EMBEDDED": "1",
    }


@pytest.fixture(scope="session")
def running_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    logging.getLogger("kafka").setLevel(logging.CRITICAL)
    env = stack_env(tmp_path_factory.mktemp("stack") / "run")
    with pytest.MonkeyPatch.context() as mp:
        for name, value in env.items():
            mp.setenv(name, value)
        mp.delenv("AWS_PROFILE", raising=False)
        settings = Settings()
        stack = EmbeddedStack(settings)
        try:
            outcomes = stack.up(timeout=60)
            yield RunningStack(settings, stack, outcomes, env)
        finally:
            stack.down()


# The files that take longest (measured with --durations=0 on 2 cores, about 40 s and more
# each), longest first. pytest-xdist hands out files in collection order
# (`--no-loadscope-reorder` in the Makefile), giving a worker the next one whenever it has two
# tests or fewer left; its own order puts the files with the most tests first, which left the
# single-test soak for last while the other workers sat idle. A file not named here keeps its
# place after these; a stale list costs time, never a test (tests/test_conftest.py checks the
# names).
LONGEST_FIRST = (
    "tests/orchestration/test_soak.py",
    "tests/consumers/test_faults.py",
    "tests/consumers/test_sink.py",
    "tests/athena_api/test_reuse.py",
    "tests/curation/test_run.py",
    "tests/consumers/test_group_faults.py",
    "tests/infra/test_static_checks.py",
    "tests/athena_api/test_serving.py",
    "tests/orchestration/test_demo.py",
    "tests/athena_api/test_dashboard.py",
    "tests/consumers/test_leases.py",
    "tests/curation/test_maintain.py",
    "tests/athena_api/test_docs.py",
    "tests/notebooks/test_notebooks.py",
    "tests/infra/test_stage_policies.py",
    "tests/producers/test_cli.py",
    "tests/consumers/test_groups.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test that reaches the session's stack, even through another fixture, is a `stack`
    test: `make test-fast` (-m "not stack") leaves exactly those out. Files then run longest
    first (LONGEST_FIRST), each in its own order."""
    for item in items:
        if "running_stack" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.stack)
    rank = {path: i for i, path in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::", 1)[0], len(rank)))


@pytest.fixture
def lake(running_stack, tmp_path: Path) -> Lake:
    """Own topics and table prefixes in the session's stack."""
    return make_lake(running_stack, tmp_path)


@pytest.fixture
def deployment_lake(running_stack, tmp_path: Path) -> Lake:
    """Own topics, buckets (a suffix) and Glue database: tables keep their catalog names."""
    return make_lake(running_stack, tmp_path, deployment=True)


@pytest.fixture(scope="session")
def terraform_bin() -> str:
    """The Terraform CLI, for configurations without providers (it cannot download any here).

    It is on this project's machines; elsewhere the tests that need it are skipped.
    """
    path = shutil.which("terraform")
    if path is None:
        pytest.skip("terraform is not on PATH: the fmt, catalog and validation checks need it")
    return path
