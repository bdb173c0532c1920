"""Two deployments in one account and region: every name Terraform gives carries the
environment, so a second apply finds none of its names taken, and each name keeps AWS's rules.

The names come from the dataset catalog module, which Terraform evaluates here (it needs no
provider); the root passes them to every module, which the parsed configuration shows.
"""

from __future__ import annotations

import re

import pytest

from lakestream.core.datasets import load_catalog
from lakestream.core.settings import Settings
from tests.infra.hcl import INFRA, MODULES, load
from tests.infra.test_catalog_module import CATALOG, evaluate
from tests.infra.test_validation import LONGEST_ENVIRONMENT_NAMES

# AWS's rules for the names that are not a module's own variable.
GLUE_NAME = re.compile(r"^[a-z0-9_]{1,255}$")  # databases (lowercase for Athena) and crawlers
WORKGROUP = re.compile(r"^[a-zA-Z0-9._-]{1,128}$")


def names_of(terraform_bin, tmp_path, environment: str | None) -> dict:
    """The catalog module's outputs for one environment: its names and each crawler's."""
    workdir = tmp_path / (environment or "plain")
    tf = evaluate(terraform_bin, workdir, CATALOG, "-x", environment)
    return {
        **tf["names"],
        "crawlers": sorted(d["crawler"] for d in tf["datasets"].values()),
    }


def _all(names: dict) -> set[str]:
    return {v for k, v in names.items() if k != "crawlers"} | set(names["crawlers"])


def test_two_environments_share_no_name(terraform_bin, tmp_path) -> None:
    plain = names_of(terraform_bin, tmp_path, None)
    dev = names_of(terraform_bin, tmp_path, "dev")
    staging = names_of(terraform_bin, tmp_path, "staging")
    # Without an environment, the names of every earlier release stay as they were.
    assert plain["kafka"] == "lakestream-kafka"
    assert (plain["glue_database"], plain["curated_database"]) == ("kafka_ing", "kafka_ing_curated")
    assert plain["workgroup"] == "lakestream"
    assert "kafka_ing_transactions_crawler" in plain["crawlers"]
    assert dev["kafka"] == "lakestream-dev-kafka"
    assert (dev["glue_database"], dev["curated_database"]) == (
        "kafka_ing_dev",
        "kafka_ing_dev_curated",
    )
    assert "kafka_ing_transactions_crawler_dev" in dev["crawlers"]
    for one, other in ((plain, dev), (plain, staging), (dev, staging)):
        assert not _all(one) & _all(other)


def test_the_longest_environment_keeps_every_aws_rule(terraform_bin, tmp_path) -> None:
    names = names_of(terraform_bin, tmp_path, "acme-prod1")
    for name in (names["glue_database"], names["curated_database"], *names["crawlers"]):
        assert GLUE_NAME.match(name), name
    assert WORKGROUP.match(names["workgroup"])
    # The module-level names are planned against each module's own validation in
    # test_validation.py; these are the names that test plans.
    derived = {
        "kafka": names["kafka"],
        "api": names["api"],
        "glue_catalog": names["base"],
        "curated_lake": names["base"],
        "monitoring": names["base"],
        # The root names the services after the base (services.tf).
        "service_group": f"{names['base']}-curation",
    }
    for module, name in LONGEST_ENVIRONMENT_NAMES:
        if module in derived:
            assert derived[module] == name
        else:  # ssm_instance: the kafka, api and service modules pass it their own name
            assert name in (names["kafka"], names["api"], f"{names['base']}-curation")


@pytest.mark.parametrize("environment", [None, "dev", "acme-prod1"])
def test_python_starts_the_crawlers_terraform_names(terraform_bin, tmp_path, environment) -> None:
    tf = evaluate(terraform_bin, tmp_path / "root", CATALOG, "-x", environment)
    settings = Settings(_env_file=None, LAKESTREAM_TARGET="aws", LAKESTREAM_ENVIRONMENT=environment)
    for ds in load_catalog(CATALOG):
        assert tf["datasets"][ds.name]["crawler"] == settings.crawler(ds)
    # The services' metrics carry the Deployment dimension the alarms name.
    assert tf["names"]["base"] == settings.deployment


def test_the_root_names_every_module_after_the_environment() -> None:
    root = load(INFRA)
    assert root.modules["catalog"]["environment"] == "${var.environment}"
    assert root.modules["kafka"]["name"] == "${local.names.kafka}"
    assert root.modules["api"]["name"] == "${local.names.api}"
    assert root.modules["glue_catalog"]["name"] == "${local.names.base}"
    assert root.modules["curated_lake"]["name"] == "${local.names.base}"
    assert root.modules["sink"]["name"] == "${local.names.base}-sink"
    assert root.modules["curation"]["name"] == "${local.names.base}-curation"
    # The alarms watch the Deployment dimension that the Python side derives from the same
    # environment (Settings.deployment).
    assert root.modules["monitoring"]["deployment"] == "${local.names.base}"
    assert "local.names.glue_database" in root.modules["glue_catalog"]["database_name"]
    assert "local.names.curated_database" in root.modules["curated_lake"]["database_name"]
    assert "local.names.workgroup" in root.modules["athena"]["workgroup_name"]
    policy = root.of_type("aws_iam_policy")["stage"]
    # The bucket suffix stays in it: attached policies must keep their names across upgrades.
    assert policy["name_prefix"] == "${local.names.base}${var.bucket_suffix}-${each.key}-"
    settings = root.locals["lakestream_settings"]
    assert "LAKESTREAM_ENVIRONMENT = var.environment" in settings


def test_kafka_secrets_and_parameters_carry_the_clusters_name() -> None:
    """The cluster's name carries the environment (above); its secrets and parameters live
    under it, so two deployments never share one."""
    kafka = load(MODULES / "kafka")
    secret = kafka.of_type("aws_secretsmanager_secret")["user"]
    assert secret["name"].startswith("${var.name}/")
    assert kafka.locals["parameter_prefix"] == "/${var.name}"
    for parameter in kafka.of_type("aws_ssm_parameter").values():
        assert parameter["name"].startswith("${local.parameter_prefix}/"), parameter["name"]


def test_an_environment_cannot_borrow_another_ones_curated_database(terraform_bin, tmp_path):
    """kafka_ing_<environment> must never be another environment's kafka_ing_<x>_curated."""
    with pytest.raises(AssertionError, match="must not end with"):
        evaluate(terraform_bin, tmp_path / "root", CATALOG, "-x", "curated")
    with pytest.raises(AssertionError, match="must not end with"):
        evaluate(terraform_bin, tmp_path / "other", CATALOG, "-x", "dev-curated")
