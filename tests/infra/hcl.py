"""infra/ as data: every .tf file parsed with python-hcl2, and a runner for the Terraform CLI.

Nothing here can run `terraform init` against the AWS provider (no registry), so the wiring is
checked on the parsed files, and Terraform itself runs only configurations without providers:
the dataset catalog module, the user data template and copies of the variables files.
"""

from __future__ import annotations

import copy
import functools
import json
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hcl2

INFRA = Path(__file__).resolve().parents[2] / "infra"
MODULES = INFRA / "modules"
OPTIONS = hcl2.SerializationOptions(
    strip_string_quotes=True, explicit_blocks=False, with_comments=False
)


@dataclass
class Config:
    """The top-level blocks of one Terraform module (a folder of .tf files)."""

    path: Path
    variables: dict[str, dict[str, Any]] = field(default_factory=dict)
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    locals: dict[str, Any] = field(default_factory=dict)
    modules: dict[str, dict[str, Any]] = field(default_factory=dict)
    resources: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    data: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    terraform: list[dict[str, Any]] = field(default_factory=list)
    moved: list[dict[str, str]] = field(default_factory=list)  # {"from": ..., "to": ...}
    providers: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # (name, body)

    def of_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {
            name: body for (kind, name), body in self.resources.items() if kind == resource_type
        }


@functools.cache
def _parsed(tf: Path, version: tuple[int, int]) -> dict[str, Any]:
    with tf.open(encoding="utf-8") as handle:
        return hcl2.load(handle, serialization_options=OPTIONS)


def parse(tf: Path) -> dict[str, Any]:
    """One .tf file as python-hcl2 gives it. A file is parsed once per version (its mtime and
    size), and each caller gets a copy of its own: the suite reads infra/ hundreds of times, and
    parsing it all takes about 2 s of CPU."""
    stat = tf.stat()
    return copy.deepcopy(_parsed(tf.resolve(), (stat.st_mtime_ns, stat.st_size)))


def load(path: Path) -> Config:
    config = Config(path)
    for tf in sorted(path.glob("*.tf")):
        doc = parse(tf)
        for block in doc.get("variable", []):
            config.variables.update(block)
        for block in doc.get("output", []):
            config.outputs.update(block)
        for block in doc.get("locals", []):
            config.locals.update(block)
        for block in doc.get("module", []):
            config.modules.update(block)
        for kind in ("resource", "data"):
            target = config.resources if kind == "resource" else config.data
            for block in doc.get(kind, []):
                for rtype, named in block.items():
                    for name, body in named.items():
                        target[(rtype, name)] = body
        config.terraform.extend(doc.get("terraform", []))
        config.moved.extend(doc.get("moved", []))
        for block in doc.get("provider", []):
            config.providers += list(block.items())
    return config


def one(blocks: list[dict[str, Any]] | dict[str, Any]) -> dict[str, Any]:
    """The single nested block of a kind (hcl2 gives blocks as lists)."""
    if isinstance(blocks, dict):
        return blocks
    assert len(blocks) == 1, blocks
    return blocks[0]


def module_dirs() -> list[Path]:
    return sorted(p for p in MODULES.iterdir() if p.is_dir())


def all_configs() -> list[Config]:
    return [load(INFRA)] + [load(p) for p in module_dirs()]


# --- the Terraform CLI, for configurations without providers --------------------------------


# An empty CLI configuration (the machine's may name a missing file), no checkpoint calls (no
# network here) and no prompts. Nothing is written next to the configuration under test.
TERRAFORM_ENV = {
    "TF_CLI_CONFIG_FILE": os.devnull,
    "CHECKPOINT_DISABLE": "1",
    "TF_IN_AUTOMATION": "1",
    "TF_INPUT": "0",
}


def terraform(
    binary: str, workdir: Path, *args: str, check: bool = True, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [binary, f"-chdir={workdir}", args[0], "-no-color", *args[1:]],
        input=stdin,
        capture_output=True,
        text=True,
        env={**os.environ, **TERRAFORM_ENV},
        timeout=120,
        check=False,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"terraform {' '.join(args)} failed:\n{result.stderr}")
    return result


def evaluate_output(binary: str, workdir: Path, main_tf: str, output: str) -> Any:
    """The value of `output` of a provider-free configuration written to workdir/main.tf."""
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "main.tf").write_text(main_tf)
    terraform(binary, workdir, "init", "-input=false", "-backend=false")
    terraform(binary, workdir, "apply", "-auto-approve", "-input=false")
    return json.loads(terraform(binary, workdir, "output", "-json", output).stdout)


def bash_syntax_errors(script: str, path: Path) -> str:
    """bash -n's complaints about `script` (written to `path`), or an empty string."""
    path.write_text(script)
    bash = shutil.which("bash") or "/bin/bash"
    checked = subprocess.run([bash, "-n", str(path)], capture_output=True, text=True, check=False)
    return checked.stderr if checked.returncode else ""
