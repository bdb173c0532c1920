"""ssm_instance's first-boot script (first_boot.sh.tftpl), rendered by Terraform's templatefile()
as service.tf renders it, for the API's, the sink's and curation's units."""

from __future__ import annotations

import json
from pathlib import Path

from tests.infra.hcl import MODULES, bash_syntax_errors, evaluate_output

TEMPLATE = MODULES / "ssm_instance" / "first_boot.sh.tftpl"
RELEASE = {
    "bucket": "kafka-ing-athena-results-acme",
    "key": "releases/lakestream-0123456789abcdef.zip",
    "sha256": "ab" * 32,
    "requirements": "tools/production.txt",
    "kms_key_arn": "arn:aws:kms:eu-west-3:123456789012:key/k",
}
UNIT_DEFAULTS = {"schedule": None, "lock": None, "stop_timeout_seconds": 90}


def render_service(
    terraform_bin: str,
    workdir: Path,
    name: str,
    environment: dict[str, str],
    units: list[dict],
    files: dict[str, str] | None = None,
    release: dict[str, str] = RELEASE,
) -> str:
    """The script, checked by `bash -n`; the environment gets the settings service.tf adds."""
    environment = {
        **environment,
        "LAKESTREAM_METRICS_EMF": "tcp://127.0.0.1:25888",
        "LAKESTREAM_METRICS_LOG_GROUP": f"/lakestream/{name}",
        "LAKESTREAM_LOG_FORMAT": "json",
    }
    agent = {
        "agent": {"run_as_user": "root"},
        "logs": {
            "logs_collected": {
                "files": {
                    "collect_list": [
                        {
                            "file_path": f"/var/log/lakestream/{u['name']}.log",
                            "log_group_name": f"/lakestream/{name}",
                            "log_stream_name": f"{{instance_id}}/{u['name']}",
                        }
                        for u in units
                    ]
                }
            },
            "metrics_collected": {"emf": {}},
        },
    }
    values = {
        "name": name,
        "region": "eu-west-3",
        "release": release,
        "environment": environment,
        "files": files or {},
        "units": [{**UNIT_DEFAULTS, **u} for u in units],
        "log_group": f"/lakestream/{name}",
        "agent_config": json.dumps(agent),
    }
    # JSON is HCL's object syntax too (null included): the values go in as one expression.
    main_tf = f"""
output "script" {{
  value = templatefile("{TEMPLATE}", jsondecode({json.dumps(json.dumps(values))}))
}}
"""
    script = evaluate_output(terraform_bin, workdir, main_tf, "script")
    assert not bash_syntax_errors(script, workdir / "user_data.sh")
    return script


def heredoc(script: str, path: str, marker: str) -> str:
    """What the script writes to `path` with `cat > path <<'MARKER'`."""
    return script.split(f"cat > {path} <<'{marker}'\n", 1)[1].split(f"\n{marker}\n", 1)[0]
