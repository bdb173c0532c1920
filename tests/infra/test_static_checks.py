"""`terraform fmt` style and checkov's policies over infra/: zero failures, every skip explained."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.infra.hcl import INFRA, terraform

CHECKOV = Path(os.environ.get("CHECKOV", INFRA.parent / ".venv-checkov" / "bin" / "checkov"))


def test_files_are_in_canonical_terraform_fmt_style(terraform_bin) -> None:
    result = terraform(terraform_bin, INFRA, "fmt", "-check", "-recursive", "-diff", check=False)
    assert result.returncode == 0, f"run `terraform fmt -recursive infra`:\n{result.stdout}"


def run_checkov(directory: Path) -> dict:
    if not CHECKOV.exists():
        pytest.fail(f"checkov is not installed at {CHECKOV}: run `make checkov` (make test does)")
    result = subprocess.run(
        [
            str(CHECKOV),
            "--directory",
            str(directory),
            "--framework",
            "terraform",
            "--output",
            "json",
            "--skip-download",  # no platform API here; the built-in policies are the baseline
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "BC_SKIP_MAPPING": "TRUE"},
        check=False,
    )
    try:
        report = json.loads(result.stdout)
    except json.JSONDecodeError:
        raise AssertionError(f"checkov printed no report:\n{result.stderr[-2000:]}") from None
    return report[0] if isinstance(report, list) else report


# Two safeguards of the brokers, broken in a copy: a regression would show as exactly these.
BROKEN_BROKER = {
    'http_tokens                 = "required"': 'http_tokens = "optional"',
    "encrypted             = true": "encrypted = false",
}
# Two of the shared launch template's, broken in a copy of ssm_instance.
BROKEN_LAUNCH_TEMPLATE = {
    'http_tokens                 = "required"': 'http_tokens = "optional"',
    "http_put_response_hop_limit = 1": "http_put_response_hop_limit = 2",
}

LAUNCHER = """
module "sink" {
  source = "./ssm_instance"

  name                   = "lakestream-sink"
  description            = "The sink: Systems Manager sessions"
  create_launch_template = true
  image_id               = "ami-0a1b2c3d"
  instance_type          = "t4g.small"
  user_data              = "#!/bin/bash\\n"
  security_group_ids     = ["sg-0a1b2c3d"]
}
"""


def _replace(path: Path, replacements: dict[str, str]) -> None:
    text = path.read_text()
    for old, new in replacements.items():
        assert old in text, f"{old!r} is no longer in {path}: the broken copy would not differ"
        text = text.replace(old, new)
    path.write_text(text)


def _copy_infra(root: Path) -> None:
    """infra/ with what its files read from beside it (the catalog, the saved queries)."""
    shutil.copytree(INFRA, root / "infra", ignore=shutil.ignore_patterns(".terraform"))
    shutil.copytree(
        INFRA.parent / "lakestream",
        root / "lakestream",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    shutil.copytree(INFRA.parent / "glue" / "queries", root / "glue" / "queries")


def _broken_kafka(root: Path, replacements: dict[str, str]) -> None:
    """The kafka module and the module it calls, with `replacements` made: checkov reads a module
    folder on its own as well (a third of the CPU of reading all of infra/ again)."""
    for module in ("kafka", "ssm_instance"):
        shutil.copytree(INFRA / "modules" / module, root / module)
    _replace(root / "kafka" / "main.tf", replacements)


def _launch_template_caller(root: Path, replacements: dict[str, str]) -> None:
    """ssm_instance with its launch template, launched by a scratch caller (the modules of
    infra/ create none yet, so infra/ alone does not show checkov the template)."""
    shutil.copytree(INFRA / "modules" / "ssm_instance", root / "ssm_instance")
    _replace(root / "ssm_instance" / "main.tf", replacements)
    (root / "main.tf").write_text(LAUNCHER)


@pytest.fixture(scope="module")
def reports(tmp_path_factory) -> dict[str, dict[str, list[dict]]]:
    """checkov's verdicts on infra/ and on three broken or scratch copies, by root. One run
    over the four: checkov takes ~6 s of CPU to start, and ~15 s a run over infra/."""
    roots = tmp_path_factory.mktemp("checkov")
    _copy_infra(roots)
    _broken_kafka(roots / "broken", BROKEN_BROKER)
    _launch_template_caller(roots / "launch-template", {})
    _launch_template_caller(roots / "launch-template-broken", BROKEN_LAUNCH_TEMPLATE)
    results = run_checkov(roots)["results"]
    named = ("infra", "broken", "launch-template", "launch-template-broken")
    by_root: dict[str, dict[str, list[dict]]] = {name: {} for name in named}
    for verdict in ("passed", "failed", "skipped"):
        for name in named:
            by_root[name][verdict] = [
                c for c in results[f"{verdict}_checks"] if c["file_path"].startswith(f"/{name}/")
            ]
    return by_root


@pytest.fixture(scope="module")
def report(reports) -> dict[str, list[dict]]:
    """infra/ as it is."""
    return reports["infra"]


def test_checkov_finds_no_failed_check(report) -> None:
    failed = [
        f"{c['check_id']} {c['resource']} ({c['file_path']}): {c['check_name']}"
        for c in report["failed"]
    ]
    assert not failed, "\n".join(failed)
    # It did look: every module's resources were checked.
    assert len(report["passed"]) >= 100
    resources = {c["resource"] for c in report["passed"]}
    for module in ("kafka", "s3_lake", "glue_catalog", "curated_lake", "athena", "api[0]"):
        assert any(r.startswith(f"module.{module}.") for r in resources), module
    # The brokers as the root makes them: the two checks the broken copy below fails ran here.
    on_brokers = {
        c["check_id"]
        for c in report["passed"]
        if c["resource"].startswith("module.kafka.aws_instance.broker")
    }
    assert {"CKV_AWS_79", "CKV_AWS_8"} <= on_brokers


def test_every_skip_carries_its_reason(report) -> None:
    skipped = report["skipped"]
    for check in skipped:
        reason = check["check_result"].get("suppress_comment", "")
        assert len(reason) > 30, f"{check['check_id']} is skipped without a reason"
    # Skips are few and deliberate: list them here so adding one is a reviewed change.
    assert sorted({c["check_id"] for c in skipped}) == [
        "CKV2_AWS_19",
        "CKV2_AWS_28",
        "CKV2_AWS_34",
        "CKV2_AWS_5",
        "CKV2_AWS_57",
        "CKV2_AWS_62",
        "CKV2_AWS_76",
        "CKV_AWS_103",
        "CKV_AWS_109",
        "CKV_AWS_111",
        "CKV_AWS_144",
        "CKV_AWS_145",
        "CKV_AWS_18",
        "CKV_AWS_2",
        "CKV_AWS_356",
        "CKV_AWS_378",
        "CKV_AWS_88",
        "CKV_AWS_91",
    ]


def test_checkov_catches_a_broker_without_imdsv2_or_encryption(reports) -> None:
    # The zero above means something only if a regression would show: break two safeguards in
    # a copy and expect exactly those checks to fail.
    failed = {(c["check_id"], c["resource"]) for c in reports["broken"]["failed"]}
    assert failed == {
        ("CKV_AWS_79", "aws_instance.broker[0]"),
        ("CKV_AWS_8", "aws_instance.broker[0]"),
    }


def _on_the_launch_template(checks: dict[str, list[dict]], verdict: str) -> set[str]:
    return {c["check_id"] for c in checks[verdict] if "launch_template" in c["resource"]}


def test_checkov_passes_the_shared_launch_template_and_catches_imdsv1_on_it(reports) -> None:
    as_is, broken = reports["launch-template"], reports["launch-template-broken"]
    assert not _on_the_launch_template(as_is, "failed")
    assert {"CKV_AWS_79", "CKV_AWS_341", "CKV_AWS_88"} <= _on_the_launch_template(as_is, "passed")
    assert {"CKV_AWS_79", "CKV_AWS_341"} <= _on_the_launch_template(broken, "failed")
