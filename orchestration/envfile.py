"""The settings file (.env) written from Terraform's outputs.

`terraform apply` in infra/ knows the brokers, the bucket suffix, the database and the
workgroup; the Python tools read them from the environment or `.env`. This module moves them
across: it reads the `lakestream_settings` output, checks every key is one of our settings and
that together they make valid settings, then updates `.env` in place. Lines it does not manage
(API_KEY, comments, anything else) are kept, so re-running it after a new apply loses nothing.

Kafka's credentials are not copied: KAFKA_SASL_PASSWORD becomes a reference to the chosen
stage's secret in Secrets Manager (`kafka_user_secrets`), read by each client when it starts.
The brokers' CA bundle is no secret: it is written beside .env (`kafka_ca_bundle`).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from lakestream.core.errors import LakestreamError
from lakestream.core.settings import SECRET_REFERENCE, Settings

OUTPUT_NAME = "lakestream_settings"
SECRETS_OUTPUT = "kafka_user_secrets"
CA_OUTPUT = "kafka_ca_bundle"
CA_FILE_NAME = "kafka-ca.pem"
DEFAULT_KAFKA_USER = "producers"
_ASSIGNMENT = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=")
_BARE_VALUE = re.compile(r"^[A-Za-z0-9_./:,@+-]*$")


def settings_variables() -> set[str]:
    """Every environment variable name that Settings reads."""
    return {name for names in Settings.variables().values() for name in names}


@dataclass
class Outputs:
    """What `lakestream env` uses of the root module's outputs."""

    settings: dict[str, object]
    user_secrets: dict[str, str] = field(default_factory=dict)  # Kafka user => secret ARN
    ca_bundle: str | None = None  # PEM of the CA that signed the brokers' certificates


def terraform_output(terraform_dir: Path, terraform: str = "terraform") -> str:
    """The JSON text of the root module's outputs (`terraform output -json`), from its state."""
    if shutil.which(terraform) is None:
        raise LakestreamError(
            f"{terraform!r} is not on PATH; install Terraform, or pass the output with "
            f"--from-json (terraform output -json {OUTPUT_NAME} > settings.json)"
        )
    env = {**os.environ, "CHECKPOINT_DISABLE": "1", "TF_IN_AUTOMATION": "1"}
    result = subprocess.run(
        [terraform, f"-chdir={terraform_dir}", "output", "-no-color", "-json"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if result.returncode != 0:
        detail = " ".join(result.stderr.split())[-300:] or f"exit code {result.returncode}"
        raise LakestreamError(
            f"`terraform output` failed in {terraform_dir} ({detail}); "
            "run `terraform apply` there first"
        )
    if OUTPUT_NAME not in json.loads(result.stdout or "{}"):
        raise LakestreamError(
            f"Terraform in {terraform_dir} has no {OUTPUT_NAME} output: run `terraform apply` "
            "there first"
        )
    return result.stdout


def parse_outputs(document: str) -> Outputs:
    """The outputs from `terraform output -json`, or from the settings output's JSON alone."""
    try:
        values = json.loads(document)
    except json.JSONDecodeError as exc:
        raise LakestreamError(f"the settings output is not JSON ({exc})") from None
    wrapped = isinstance(values, dict) and isinstance(values.get(OUTPUT_NAME), dict)
    if not isinstance(values, dict):
        raise LakestreamError("the settings output must be a non-empty JSON object of strings")
    if not wrapped or "value" not in values[OUTPUT_NAME]:
        return Outputs(values)

    def value(name: str) -> object:
        return (values.get(name) or {}).get("value")

    secrets = value(SECRETS_OUTPUT) or {}
    if not isinstance(secrets, dict):
        raise LakestreamError(f"the {SECRETS_OUTPUT} output must map user names to secrets")
    ca_bundle = value(CA_OUTPUT)
    return Outputs(
        settings=value(OUTPUT_NAME) or {},
        user_secrets={str(k): str(v) for k, v in secrets.items()},
        ca_bundle=str(ca_bundle) if ca_bundle else None,
    )


def kafka_client_settings(
    outputs: Outputs, user: str, ca_path: Path
) -> tuple[dict[str, str], str | None]:
    """KAFKA_SASL_PASSWORD (a secret reference) and KAFKA_SSL_CAFILE for the chosen Kafka user,
    and the CA bundle to write to `ca_path` (None: nothing to write)."""
    protocol = str(outputs.settings.get("KAFKA_SECURITY_PROTOCOL", "PLAINTEXT")).upper()
    values: dict[str, str] = {}
    if protocol.startswith("SASL_"):
        if user not in outputs.user_secrets:
            known = ", ".join(sorted(outputs.user_secrets)) or "none"
            raise LakestreamError(
                f"the deployment has no Kafka user {user!r} (its users: {known}); "
                "choose one with --kafka-user"
            )
        values["KAFKA_SASL_PASSWORD"] = SECRET_REFERENCE + outputs.user_secrets[user]
    if protocol.endswith("SSL") and outputs.ca_bundle:
        values["KAFKA_SSL_CAFILE"] = str(ca_path.resolve())
        return values, outputs.ca_bundle
    return values, None


def parse_settings(document: str | dict[str, object]) -> dict[str, str]:
    """Checked settings from the output's JSON: known names, string values, valid together."""
    values = parse_outputs(document).settings if isinstance(document, str) else document
    if not isinstance(values, dict) or not values:
        raise LakestreamError("the settings output must be a non-empty JSON object of strings")
    unknown = sorted(set(values) - settings_variables())
    if unknown:
        raise LakestreamError(
            f"the settings output names variables lakestream does not read: {unknown}"
        )
    not_strings = sorted(k for k, v in values.items() if not isinstance(v, str))
    if not_strings:
        raise LakestreamError(f"settings {not_strings} are not strings")
    try:
        # Keyword values win over the environment and no .env is read: this checks the output.
        Settings(_env_file=None, **values)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise LakestreamError(f"the settings output is not valid: {first['msg']}") from None
    return values


def _format(name: str, value: str) -> str:
    # Plain values stay readable; anything else is double-quoted, which dotenv unescapes.
    shown = value if _BARE_VALUE.match(value) else json.dumps(value)
    return f"{name}={shown}"


def merge_env(existing: str, values: dict[str, str]) -> tuple[str, list[str]]:
    """`existing` with `values` set: managed lines replaced in place, new ones appended.

    Returns the new text and a description of each change (empty when nothing changes).
    """
    lines = existing.splitlines()
    pending = dict(values)
    changes: list[str] = []
    result: list[str] = []
    for line in lines:
        match = _ASSIGNMENT.match(line)
        name = match.group(1) if match else None
        if name in pending:
            new_line = _format(name, pending.pop(name))
            if new_line != line:
                changes.append(f"updated {name}")
            result.append(new_line)
        elif name in values:
            changes.append(f"removed a second {name} line")
        else:
            result.append(line)
    if pending:
        if not lines:
            result.append(f"# Written by `lakestream env` from Terraform's {OUTPUT_NAME} output.")
        for name, value in pending.items():
            result.append(_format(name, value))
            changes.append(f"added {name}")
    return "\n".join(result) + "\n", changes


def _write_atomically(path: Path, text: str, mode: int) -> None:
    # Same folder, then rename: a reader never sees half a file.
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent or ".")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_env(path: Path, values: dict[str, str]) -> list[str]:
    """Update the settings file atomically; its changes (none: the file was left alone)."""
    existing = path.read_text(encoding="utf-8") if path.exists() else ""
    text, changes = merge_env(existing, values)
    if not changes:
        return []
    # Keep a private mode: the file may also hold API_KEY.
    _write_atomically(path, text, path.stat().st_mode & 0o777 if path.exists() else 0o600)
    return changes


def write_ca_bundle(path: Path, pem: str) -> bool:
    """Write the brokers' CA bundle (public, so world-readable); False if it was already there."""
    if "BEGIN CERTIFICATE" not in pem:
        raise LakestreamError(f"the {CA_OUTPUT} output holds no PEM certificate")
    if path.exists() and path.read_text(encoding="utf-8") == pem:
        return False
    _write_atomically(path, pem, 0o644)
    return True
