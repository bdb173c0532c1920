"""Terraform and Python derive the same names from the same catalog file.

The dataset_catalog module needs no provider, so Terraform itself evaluates it here; its
outputs are compared with lakestream.core.datasets and lakestream.core.settings.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from curation.tables import columns as curated_columns
from curation.tables import location as curated_location
from lakestream.core.datasets import load_catalog
from lakestream.core.settings import Settings
from tests.infra.hcl import INFRA, MODULES, load, terraform

CATALOG = INFRA.parent / "lakestream" / "core" / "datasets.yaml"


def evaluate(
    terraform_bin: str, workdir: Path, catalog: Path, suffix: str, environment: str | None = None
) -> dict:
    workdir.mkdir(exist_ok=True)
    (workdir / "main.tf").write_text(
        f"""
module "catalog" {{
  source        = "{MODULES / "dataset_catalog"}"
  catalog_file  = "{catalog}"
  bucket_suffix = "{suffix}"
  environment   = {json.dumps(environment) if environment else "null"}
}}

output "catalog" {{
  value = module.catalog
}}
"""
    )
    terraform(terraform_bin, workdir, "init", "-input=false", "-backend=false")
    terraform(terraform_bin, workdir, "apply", "-auto-approve", "-input=false")
    out = terraform(terraform_bin, workdir, "output", "-json", "catalog")
    return json.loads(out.stdout)


@pytest.mark.parametrize("suffix", ["", "-acme-dev"])
def test_terraform_derives_the_names_python_derives(terraform_bin, tmp_path, suffix) -> None:
    tf = evaluate(terraform_bin, tmp_path / "root", CATALOG, suffix)
    settings = Settings(_env_file=None, LAKESTREAM_BUCKET_SUFFIX=suffix, LAKESTREAM_TARGET="aws")
    catalog = load_catalog(CATALOG)
    assert set(tf["datasets"]) == {ds.name for ds in catalog}
    for ds in catalog:
        entry = tf["datasets"][ds.name]
        assert entry["topic"] == ds.topic
        assert entry["partitions"] == ds.partitions
        assert entry["table"] == ds.table
        assert entry["bucket"] == settings.bucket(ds)
        assert entry["crawler"] == ds.crawler
        assert entry["prefix"] == f"{ds.table}/"
        assert entry["s3_path"] == f"s3://{settings.bucket(ds)}/{ds.table}/"
        # The curated Iceberg table Terraform creates is the one curation/tables.py creates.
        assert entry["event_time_field"] == ds.event_time_field
        assert entry["curated_location"] == curated_location(settings, ds)
        assert [(c["name"], c["type"], c["required"]) for c in entry["curated_columns"]] == (
            curated_columns(ds)
        )
    assert tf["topics"] == {ds.topic: ds.partitions for ds in catalog}
    assert tf["results_bucket"] == settings.results_bucket
    assert tf["results_location"] == settings.athena_output_location
    assert tf["crawler_exclusions"] == list(catalog.crawler_exclusions)


def test_root_passes_the_catalogs_crawler_exclusions_to_the_crawlers() -> None:
    root = load(INFRA)
    assert root.modules["glue_catalog"]["exclusions"] == "${module.catalog.crawler_exclusions}"


def test_a_fifth_dataset_is_one_catalog_edit_for_terraform_too(terraform_bin, tmp_path) -> None:
    doc = yaml.safe_load(CATALOG.read_text())
    extra = json.loads(json.dumps(doc["datasets"]["transactions"]))
    extra.update(
        topic="refunds_topic",
        bucket="kafka-ing-refunds",
        table="kafka_ing_refunds",
        seed_file="refunds.csv",
    )
    extra["partitions"] = 6
    doc["datasets"]["refunds"] = extra
    # JSON is YAML too; a .json catalog goes through jsondecode.
    catalog = tmp_path / "datasets.json"
    catalog.write_text(json.dumps(doc))
    tf = evaluate(terraform_bin, tmp_path / "root", catalog, "-x")
    assert load_catalog(catalog).get("refunds").partitions == 6
    assert tf["topics"]["refunds_topic"] == 6
    assert tf["datasets"]["refunds"]["crawler"] == "kafka_ing_refunds_crawler"
    assert tf["datasets"]["refunds"]["bucket"] == "kafka-ing-refunds-x"
    assert len(tf["datasets"]) == 5


def test_a_catalog_with_a_shared_bucket_is_refused(terraform_bin, tmp_path) -> None:
    doc = yaml.safe_load(CATALOG.read_text())
    doc["datasets"]["web_logs"]["bucket"] = doc["datasets"]["transactions"]["bucket"]
    catalog = tmp_path / "datasets.yaml"
    catalog.write_text(yaml.safe_dump(doc))
    workdir = tmp_path / "root"
    with pytest.raises(AssertionError, match="share a bucket"):
        evaluate(terraform_bin, workdir, catalog, "")


def test_the_root_feeds_every_module_from_the_catalog_module() -> None:
    root = load(INFRA)
    assert root.modules["kafka"]["topics"] == "${module.catalog.topics}"
    assert "module.catalog.datasets" in root.modules["s3_lake"]["datasets"]
    assert root.modules["s3_lake"]["results_bucket"] == "${module.catalog.results_bucket}"
    assert "module.catalog.datasets" in root.modules["glue_catalog"]["datasets"]
    assert "d.crawler" in root.modules["glue_catalog"]["datasets"]
    assert "lakestream/core/datasets.yaml" in root.locals["catalog_file"]
    curated = root.modules["curated_lake"]["datasets"]
    for field in ("d.curated_location", "d.event_time_field", "d.curated_columns"):
        assert field in curated, field
    # The Athena results location is the one the Python side uses (checked above by Terraform).
    assert root.modules["athena"]["results_location"].endswith("/results/")


def test_saved_queries_become_named_queries() -> None:
    athena = load(MODULES / "athena")
    named = athena.of_type("aws_athena_named_query")["saved"]
    assert named["for_each"] == "${local.queries}"
    assert 'fileset(var.queries_dir, "*.sql")' in athena.locals["queries"]
    root = load(INFRA)
    queries_dir = root.modules["athena"]["queries_dir"].replace("${path.root}", str(INFRA))
    files = sorted(p.stem for p in Path(queries_dir).resolve().glob("*.sql"))
    assert files == sorted(p.stem for p in (INFRA.parent / "glue" / "queries").glob("*.sql"))
    assert len(files) == 4
