"""The brokers' first-boot script, rendered by Terraform's templatefile() as the module does."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from lakestream.core.datasets import load_catalog
from lakestream.stack.provision import replication_for
from tests.infra.hcl import INFRA, MODULES, load, terraform

TEMPLATE = MODULES / "kafka" / "user_data.sh.tftpl"
KAFKA = load(MODULES / "kafka")


def render(
    terraform_bin: str,
    workdir: Path,
    node_id: int,
    broker_count: int,
    cluster_id: str = "MkU3OEVBNTcwNTJENDM2Qg",
) -> str:
    """The script for one node, with the catalog's topics as the root module passes them."""
    voters = ",".join(f"{i}@10.0.{i}.10:9093" for i in range(1, broker_count + 1))
    replication = min(3, broker_count)
    workdir.mkdir()
    (workdir / "main.tf").write_text(
        f"""
module "catalog" {{
  source       = "{MODULES / "dataset_catalog"}"
  catalog_file = "{INFRA.parent / "lakestream" / "core" / "datasets.yaml"}"
}}

output "script" {{
  value = templatefile("{TEMPLATE}", {{
    node_id             = {node_id}
    broker_count        = {broker_count}
    cluster_id          = "{cluster_id}"
    quorum_voters       = "{voters}"
    advertised_host     = "ec2-203-0-113-{node_id}.eu-west-3.compute.amazonaws.com"
    private_ip          = "10.0.{node_id}.10"
    client_port         = 9092
    controller_port     = 9093
    internal_port       = 9094
    replication_factor  = {replication}
    min_insync_replicas = {max(1, replication - 1)}
    log_retention_hours = 168
    heap_mb             = 512
    kafka_version       = "3.9.1"
    scala_version       = "2.13"
    kafka_sha512        = ""
    download_base_url   = "https://archive.apache.org/dist/kafka"
    create_topics       = {str(node_id == 1).lower()}
    topics              = module.catalog.topics
  }})
}}
"""
    )
    terraform(terraform_bin, workdir, "init", "-input=false", "-backend=false")
    terraform(terraform_bin, workdir, "apply", "-auto-approve", "-input=false")
    out = terraform(terraform_bin, workdir, "output", "-json", "script")
    script = json.loads(out.stdout)
    path = workdir / "user_data.sh"
    path.write_text(script)
    bash = shutil.which("bash") or "/bin/bash"
    syntax = subprocess.run([bash, "-n", str(path)], capture_output=True, text=True, check=False)
    assert syntax.returncode == 0, syntax.stderr
    return script


def properties(script: str) -> dict[str, str]:
    body = script.split("<<'PROPERTIES'\n", 1)[1].split("\nPROPERTIES\n", 1)[0]
    return dict(
        line.split("=", 1) for line in body.splitlines() if line and not line.startswith("#")
    )


def test_single_broker_is_a_kraft_node_with_the_catalog_topics(terraform_bin, tmp_path) -> None:
    script = render(terraform_bin, tmp_path / "one", node_id=1, broker_count=1)
    props = properties(script)
    assert props["process.roles"] == "broker,controller"
    assert props["node.id"] == "1"
    assert props["controller.quorum.voters"] == "1@10.0.1.10:9093"
    assert props["advertised.listeners"] == (
        "CLIENT://ec2-203-0-113-1.eu-west-3.compute.amazonaws.com:9092,INTERNAL://10.0.1.10:9094"
    )
    assert props["default.replication.factor"] == "1"
    assert props["min.insync.replicas"] == "1"
    assert props["auto.create.topics.enable"] == "false"
    assert "zookeeper.connect" not in props
    created = dict(re.findall(r"^create (\S+) (\d+)$", script, re.MULTILINE))
    catalog = load_catalog(INFRA.parent / "lakestream" / "core" / "datasets.yaml")
    assert created == {ds.topic: str(ds.partitions) for ds in catalog}
    assert 'kafka-storage.sh" format --ignore-formatted' in script
    assert '--cluster-id="MkU3OEVBNTcwNTJENDM2Qg"' in script
    assert "systemctl enable --now kafka.service" in script
    assert "sha512sum --check --strict" in script
    assert "kafka_2.13-3.9.1.tgz" in script


@pytest.mark.parametrize("node_id", [1, 2])
def test_three_brokers_replicate_three_times(terraform_bin, tmp_path, node_id) -> None:
    script = render(terraform_bin, tmp_path / f"node{node_id}", node_id=node_id, broker_count=3)
    props = properties(script)
    assert props["node.id"] == str(node_id)
    assert props["controller.quorum.voters"].count("@") == 3
    for key in ("default.replication.factor", "offsets.topic.replication.factor"):
        assert props[key] == "3"
    assert props["min.insync.replicas"] == props["transaction.state.log.min.isr"] == "2"
    # Only the first node creates topics, with the cluster's replication settings.
    creates_topics = "kafka-topics.service" in script
    assert creates_topics == (node_id == 1)
    if creates_topics:
        assert "--replication-factor 3 --config min.insync.replicas=2" in script


def test_module_computes_replication_from_the_broker_count() -> None:
    assert KAFKA.locals["replication_factor"] == "${min(3, var.broker_count)}"
    assert KAFKA.locals["min_insync_replicas"] == (
        "${local.replication_factor > 1 ? local.replication_factor - 1 : 1}"
    )
    text = TEMPLATE.read_text()
    loop_vars = {v for pair in re.findall(r"%\{ for (\w+), (\w+) in", text) for v in pair}
    used = set(re.findall(r"\$\{(\w+)", text)) | set(re.findall(r"%\{ if (\w+)", text))
    used |= set(re.findall(r"%\{ for \w+, \w+ in (\w+)", text))
    user_data = KAFKA.of_type("aws_instance")["broker"]["user_data"]
    assert {"topics", "create_topics", "quorum_voters"} <= used
    for name in used - loop_vars:
        assert f"{name} =" in user_data, f"the template's {name} is not passed by the module"


@pytest.mark.parametrize("brokers", [1, 3, 5])
def test_topics_created_from_python_replicate_like_the_brokers(
    terraform_bin, tmp_path, brokers
) -> None:
    # `make produce` creates a missing topic itself: with the module's own rule, evaluated by
    # Terraform, not a copy of it.
    def evaluate(expression: str) -> int:
        out = terraform(terraform_bin, tmp_path, "console", stdin=expression.strip("${}") + "\n")
        return int(out.stdout.strip())

    factor = evaluate(KAFKA.locals["replication_factor"].replace("var.broker_count", str(brokers)))
    min_insync = evaluate(
        KAFKA.locals["min_insync_replicas"].replace("local.replication_factor", str(factor))
    )
    assert replication_for(brokers) == (factor, min_insync)
    assert (factor, min_insync) == ((1, 1) if brokers == 1 else (3, 2))


def test_a_cluster_id_starting_with_a_dash_stays_the_options_value(terraform_bin, tmp_path) -> None:
    """base64url ids start with "-" once in 64: as a separate argument the format command's
    parser would read it as an option. Bash splits the rendered line as the node will."""
    script = render(terraform_bin, tmp_path / "dash", 1, 1, cluster_id="-kU3OEVBNTcwNTJENDM2Qg")
    lines = script.replace("\\\n", " ").splitlines()
    line = next(text for text in lines if 'kafka-storage.sh" format' in text)
    command = line.split('"$KAFKA_HOME/bin/kafka-storage.sh"', 1)[1]
    bash = shutil.which("bash") or "/bin/bash"
    words = subprocess.run(
        [bash, "-c", f'CONFIG=/c; printf "%s\\n" {command}'],
        capture_output=True, text=True, check=True,
    ).stdout.splitlines()  # fmt: skip
    assert "--cluster-id=-kU3OEVBNTcwNTJENDM2Qg" in words
    assert "-kU3OEVBNTcwNTJENDM2Qg" not in words  # never a word of its own
