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


@pytest.fixture(scope="module")
def report() -> dict:
    return run_checkov(INFRA)


def test_checkov_finds_no_failed_check(report) -> None:
    failed = [
        f"{c['check_id']} {c['resource']} ({c['file_path']}): {c['check_name']}"
        for c in report["results"]["failed_checks"]
    ]
    assert not failed, "\n".join(failed)
    # It did look: every module's resources were checked.
    assert report["summary"]["passed"] >= 100
    resources = {c["resource"] for c in report["results"]["passed_checks"]}
    for module in ("kafka", "s3_lake", "glue_catalog", "curated_lake", "athena", "api[0]"):
        assert any(r.startswith(f"module.{module}.") for r in resources), module


def test_every_skip_carries_its_reason(report) -> None:
    skipped = report["results"]["skipped_checks"]
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


def test_checkov_catches_a_broker_without_imdsv2_or_encryption(tmp_path) -> None:
    # The zero above means something only if a regression would show: break two safeguards in
    # a copy and expect exactly those checks to fail.
    copy = tmp_path / "infra"
    shutil.copytree(INFRA, copy, ignore=shutil.ignore_patterns(".terraform"))
    shutil.copytree(INFRA.parent / "lakestream", tmp_path / "lakestream")
    shutil.copytree(INFRA.parent / "glue" / "queries", tmp_path / "glue" / "queries")
    main = copy / "modules" / "kafka" / "main.tf"
    text = main.read_text()
    text = text.replace('http_tokens                 = "required"', 'http_tokens = "optional"')
    text = text.replace("encrypted             = true", "encrypted = false")
    main.write_text(text)
    failed = {c["check_id"] for c in run_checkov(copy)["results"]["failed_checks"]}
    assert {"CKV_AWS_79", "CKV_AWS_8"} <= failed


def test_broken_copy_really_differs() -> None:
    # Guards the replacements above: if the source is reformatted they would silently miss.
    text = (INFRA / "modules" / "kafka" / "main.tf").read_text()
    assert 'http_tokens                 = "required"' in text
    assert "encrypted             = true" in text


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


def _checks_on_the_launch_template(tmp_path: Path, replacements: dict[str, str]) -> dict:
    """checkov's verdicts on ssm_instance's launch template, launched by a scratch caller (the
    modules of infra/ create none yet, so checkov -d infra does not see it)."""
    shutil.copytree(INFRA / "modules" / "ssm_instance", tmp_path / "ssm_instance")
    main = tmp_path / "ssm_instance" / "main.tf"
    text = main.read_text()
    for old, new in replacements.items():
        assert old in text, old
        text = text.replace(old, new)
    main.write_text(text)
    (tmp_path / "main.tf").write_text(LAUNCHER)
    results = run_checkov(tmp_path)["results"]
    return {
        verdict: {
            c["check_id"]
            for c in results[f"{verdict}_checks"]
            if "launch_template" in c["resource"]
        }
        for verdict in ("passed", "failed")
    }


def test_checkov_passes_the_shared_launch_template_and_catches_imdsv1_on_it(tmp_path) -> None:
    checks = _checks_on_the_launch_template(tmp_path / "as-is", {})
    assert not checks["failed"]
    assert {"CKV_AWS_79", "CKV_AWS_341", "CKV_AWS_88"} <= checks["passed"]
    broken = _checks_on_the_launch_template(
        tmp_path / "broken",
        {
            'http_tokens                 = "required"': 'http_tokens = "optional"',
            "http_put_response_hop_limit = 1": "http_put_response_hop_limit = 2",
        },
    )
    assert {"CKV_AWS_79", "CKV_AWS_341"} <= broken["failed"]
