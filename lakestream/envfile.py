"""The settings file (.env) written from Terraform's `lakestream_settings` output.

`terraform apply` in infra/ knows the brokers, the bucket suffix, the database and the
workgroup; the Python tools read them from the environment or `.env`. This module moves them
across: it reads the output, checks every key is one of our settings and that together they
make valid settings, then updates `.env` in place. Lines it does not manage (API_KEY, comments,
anything else) are kept, so re-running it after a new apply loses nothing.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from pydantic import ValidationError

from lakestream.core.errors import LakestreamError
from lakestream.core.settings import Settings

OUTPUT_NAME = "lakestream_settings"
_ASSIGNMENT = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=")
_BARE_VALUE = re.compile(r"^[A-Za-z0-9_./:,@+-]*$")


def settings_variables() -> set[str]:
    """Every environment variable name that Settings reads."""
    return {name for names in Settings.variables().values() for name in names}


def terraform_output(terraform_dir: Path, terraform: str = "terraform") -> str:
    """The JSON text of the root module's settings output, from the state Terraform keeps."""
    if shutil.which(terraform) is None:
        raise LakestreamError(
            f"{terraform!r} is not on PATH; install Terraform, or pass the output with "
            f"--from-json (terraform output -json {OUTPUT_NAME} > settings.json)"
        )
    env = {**os.environ, "CHECKPOINT_DISABLE": "1", "TF_IN_AUTOMATION": "1"}
    result = subprocess.run(
        [terraform, f"-chdir={terraform_dir}", "output", "-no-color", "-json", OUTPUT_NAME],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if result.returncode != 0:
        detail = " ".join(result.stderr.split())[-300:] or f"exit code {result.returncode}"
        raise LakestreamError(
            f"`terraform output {OUTPUT_NAME}` failed in {terraform_dir} ({detail}); "
            "run `terraform apply` there first"
        )
    return result.stdout


def parse_settings(document: str) -> dict[str, str]:
    """Checked settings from the output's JSON: known names, string values, valid together."""
    try:
        values = json.loads(document)
    except json.JSONDecodeError as exc:
        raise LakestreamError(f"the settings output is not JSON ({exc})") from None
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


def write_env(path: Path, values: dict[str, str]) -> list[str]:
    """Update the settings file atomically; its changes (none: the file was left alone)."""
    existing = path.read_text(encoding="utf-8") if path.exists() else ""
    text, changes = merge_env(existing, values)
    if not changes:
        return []
    # Same folder, then rename: a reader never sees half a file. Keep a private mode: the file
    # may also hold API_KEY.
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o600
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent or ".")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return changes
