"""Shared fixtures: one embedded stack per test session, on free ports, in a temporary run folder.

The environment variables are set for the whole session so that code under test, and any
subprocess it starts, finds this stack and never a stack a person has running on the defaults.

The session's stack keeps the broker's log in memory: most tests are about the sink, curation or
the API, and with the log in S3 every produce and fetch is also a request to the one moto
process that holds the lake (13% of a stack test's CPU, measured on five stack files). Tests of
what the log in S3 gives (a broker restart loses nothing, a stalled moto stalls the broker too,
retention, offsets the log no longer serves) use `durable_stack`, the stack as `make up` starts
it, on the same worker when they need it.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from lakestream.core.settings import Settings
from lakestream.stack.embedded import EmbeddedStack
from lakestream.stack.processes import free_port
from lakestream.stack.provision import Outcome
from tests.lake_helpers import Lake, environment, make_lake


@dataclass
class RunningStack:
    settings: Settings
    stack: EmbeddedStack
    first_up: list[Outcome]
    env: dict[str, str]


def stack_env(run_dir: Path, broker_storage: str = "s3") -> dict[str, str]:
    """Environment for a stack of its own: free ports, its own run folder, dummy credentials;
    the broker's log where `make up` keeps it unless `broker_storage` says otherwise."""
    return {
        "LAKESTREAM_BROKER_STORAGE": broker_storage,
        "LAKESTREAM_TARGET": "local",
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}",
        "KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{free_port()}",
        "LAKESTREAM_RUN_DIR": str(run_dir),
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_REGION": "us-east-1",
        "LAKESTREAM_EMBEDDED": "1",
        "PYTHONFAULTHANDLER": "1",  # a child that hangs shows its stacks (lake_helpers.ended)
    }


@contextmanager
def embedded_stack(run_dir: Path, broker_storage: str, export: bool) -> Iterator[RunningStack]:
    """A stack in `run_dir`; with `export` its environment is also the session's os.environ."""
    logging.getLogger("kafka").setLevel(logging.CRITICAL)
    env = stack_env(run_dir, broker_storage)
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("AWS_PROFILE", raising=False)  # the stack's keys, never a user's profile
        if export:
            for name, value in env.items():
                mp.setenv(name, value)
        with environment({**os.environ, **env}):
            settings = Settings()
        stack = EmbeddedStack(settings)
        try:
            outcomes = stack.up(timeout=60)
            yield RunningStack(settings, stack, outcomes, env)
        finally:
            stack.down()


@pytest.fixture(scope="session")
def running_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    """The session's stack, its broker's log in memory (see above)."""
    run_dir = tmp_path_factory.mktemp("stack") / "run"
    with embedded_stack(run_dir, "memory", export=True) as stack:
        yield stack


@pytest.fixture(scope="session")
def durable_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    """A stack as `make up` starts it: the broker's log in the embedded S3, trimmed by the
    retention process. Code under test finds it through a lake's env, not os.environ."""
    run_dir = tmp_path_factory.mktemp("durable") / "run"
    with embedded_stack(run_dir, "s3", export=False) as stack:
        yield stack


# The files that take longest (measured with --durations=0 on 2 cores, about 15 s and more
# each), longest first. pytest-xdist hands out files in collection order
# (`--no-loadscope-reorder` in the Makefile), giving a worker the next one whenever it has two
# tests or fewer left; its own order puts the files with the most tests first, which left the
# single-test soak for last while the other workers sat idle. A file not named here keeps its
# place after these; a stale list costs time, never a test (tests/test_conftest.py checks the
# names).
LONGEST_FIRST = (
    "tests/consumers/test_faults.py",
    "tests/consumers/test_sink.py",
    "tests/orchestration/test_soak.py",
    "tests/consumers/test_group_faults.py",
    "tests/athena_api/test_serving.py",
    "tests/athena_api/test_dashboard.py",
    "tests/curation/test_run.py",
    "tests/orchestration/test_demo.py",
    "tests/consumers/test_leases.py",
    "tests/athena_api/test_docs.py",
    "tests/infra/test_stage_policies.py",
    "tests/notebooks/test_notebooks.py",
    "tests/athena_api/test_reuse.py",
    "tests/lakestream/stack/test_embedded.py",
    "tests/curation/test_maintain.py",
    "tests/consumers/test_groups.py",
    "tests/infra/test_release.py",
    "tests/orchestration/test_dlq.py",
    "tests/test_entrypoints.py",
    "tests/infra/test_static_checks.py",
    "tests/infra/test_structure.py",
)


STACKS = {"running_stack", "durable_stack"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test that reaches the session's stack, even through another fixture, is a `stack`
    test: `make test-fast` (-m "not stack") leaves exactly those out. Files then run longest
    first (LONGEST_FIRST), each in its own order."""
    for item in items:
        if STACKS & set(getattr(item, "fixturenames", ())):
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


@pytest.fixture
def durable_lake(durable_stack, tmp_path: Path) -> Lake:
    """Own topics and table prefixes in the stack whose broker keeps its log in S3."""
    return make_lake(durable_stack, tmp_path)


@pytest.fixture(scope="session")
def terraform_bin() -> str:
    """The Terraform CLI, for configurations without providers (it cannot download any here).

    It is on this project's machines; elsewhere the tests that need it are skipped.
    """
    path = shutil.which("terraform")
    if path is None:
        pytest.skip("terraform is not on PATH: the fmt, catalog and validation checks need it")
    return path
