"""The brokers' first-boot script, rendered by Terraform's templatefile() as the module does."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from lakestream.core.datasets import load_catalog
from lakestream.stack.provision import replication_for
from tests.infra.hcl import INFRA, MODULES, bash_syntax_errors, evaluate_output, load, terraform

TEMPLATE = MODULES / "kafka" / "user_data.sh.tftpl"
BASH = shutil.which("bash") or "/bin/bash"
KAFKA = load(MODULES / "kafka")


VOLUME_ID = "vol-0123456789abcdef0"
SECRET = "arn:aws:secretsmanager:eu-west-3:123456789012:secret:lakestream-kafka/users/{}-AbCdEf"
USERS = {"producers": "producer", "sink": "consumer", "admin": "admin"}


def render(
    terraform_bin: str,
    workdir: Path,
    node_id: int,
    broker_count: int,
    cluster_id: str = "MkU3OEVBNTcwNTJENDM2Qg",
    plaintext_port: int = 0,
    users: dict[str, str] = USERS,
    data_volume_wait_seconds: int = 300,
) -> str:
    """The script for one node, with the catalog's topics as the root module passes them."""
    voters = ",".join(f"{i}@10.0.{i}.10:9093" for i in range(1, broker_count + 1))
    replication = min(3, broker_count)
    user_map = ", ".join(
        f'{u} = {{ role = "{role}", secret = "{SECRET.format(u)}" }}' for u, role in users.items()
    )
    main_tf = f"""
module "catalog" {{
  source       = "{MODULES / "dataset_catalog"}"
  catalog_file = "{INFRA.parent / "lakestream" / "core" / "datasets.yaml"}"
}}

output "script" {{
  value = templatefile("{TEMPLATE}", {{
    node_id             = {node_id}
    region              = "eu-west-3"
    broker_count        = {broker_count}
    cluster_id          = "{cluster_id}"
    quorum_voters       = "{voters}"
    advertised_host     = "ec2-203-0-113-{node_id}.eu-west-3.compute.amazonaws.com"
    rack                = "eu-west-3{"abc"[(node_id - 1) % 3]}"
    private_ip          = "10.0.{node_id}.10"
    client_port         = 9092
    controller_port     = 9093
    internal_port       = 9094
    plaintext_port      = {plaintext_port}
    ca_parameter          = "/lakestream-kafka/ca-bundle"
    certificate_parameter = "/lakestream-kafka/broker-{node_id}/certificate"
    key_parameter         = "/lakestream-kafka/broker-{node_id}/private-key"
    broker_principal      = "lakestream-kafka-broker"
    users                 = {{ {user_map} }}
    consumer_group_prefix = "lakestream-sink"
    replication_factor  = {replication}
    min_insync_replicas = {max(1, replication - 1)}
    log_retention_hours = 168
    heap_mb             = 512
    kafka_version       = "3.9.1"
    scala_version       = "2.13"
    kafka_sha512        = ""
    download_base_url   = "https://archive.apache.org/dist/kafka"
    data_volume_id           = "{VOLUME_ID}"
    data_device_name         = "/dev/sdf"
    data_volume_wait_seconds = {data_volume_wait_seconds}
    manage_access       = {str(node_id == 1).lower()}
    create_topics       = {str(node_id == 1).lower()}
    topics              = module.catalog.topics
    agent_config        = jsonencode({{ metrics = {{ namespace = "lakestream" }} }})
  }})
}}
"""
    script = evaluate_output(terraform_bin, workdir, main_tf, "script")
    assert not bash_syntax_errors(script, workdir / "user_data.sh")
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
    assert props["listener.security.protocol.map"] == "CLIENT:SASL_SSL,CONTROLLER:SSL,INTERNAL:SSL"
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
    used = set(re.findall(r"(?<!\$)\$\{(\w+)\b(?!\()", text)) | set(
        re.findall(r"%\{ if (\w+)", text)
    )
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
    command = line.split('"$BIN/kafka-storage.sh"', 1)[1]
    bash = shutil.which("bash") or "/bin/bash"
    words = subprocess.run(
        [bash, "-c", f'printf "%s\\n" {command}'],
        capture_output=True, text=True, check=True,
    ).stdout.splitlines()  # fmt: skip
    assert "--cluster-id=-kU3OEVBNTcwNTJENDM2Qg" in words
    assert "-kU3OEVBNTcwNTJENDM2Qg" not in words  # never a word of its own


# --- SASL_SSL for clients, TLS between brokers, the users ------------------------------------


def inner_scripts(script: str) -> dict[str, str]:
    """The scripts the user data writes (cat > /usr/local/sbin/NAME <<'SCRIPT' ... SCRIPT)."""
    return dict(
        re.findall(r"cat > /usr/local/sbin/([\w-]+) <<'SCRIPT'\n(.*?)\nSCRIPT\n", script, re.S)
    )


def test_clients_authenticate_with_scram_over_tls_and_brokers_with_certificates(
    terraform_bin, tmp_path
) -> None:
    script = render(terraform_bin, tmp_path / "tls", node_id=1, broker_count=3)
    props = properties(script)
    assert props["listener.security.protocol.map"] == "CLIENT:SASL_SSL,CONTROLLER:SSL,INTERNAL:SSL"
    assert "PLAINTEXT" not in props["listener.security.protocol.map"]
    assert props["sasl.enabled.mechanisms"] == "SCRAM-SHA-512"
    assert props["listener.name.client.sasl.enabled.mechanisms"] == "SCRAM-SHA-512"
    assert props["listener.name.client.scram-sha-512.sasl.jaas.config"] == (
        "org.apache.kafka.common.security.scram.ScramLoginModule required;"
    )
    # Replication and the quorum: TLS, and only a certificate of the same CA gets in.
    assert props["inter.broker.listener.name"] == "INTERNAL"
    assert props["listener.name.internal.ssl.client.auth"] == "required"
    assert props["listener.name.controller.ssl.client.auth"] == "required"
    assert props["ssl.keystore.location"] == "/etc/kafka/tls/broker.pem"
    assert props["ssl.truststore.location"] == "/etc/kafka/tls/ca.pem"
    assert props["ssl.keystore.type"] == props["ssl.truststore.type"] == "PEM"
    assert props["ssl.endpoint.identification.algorithm"] == "https"
    # Nothing without an ACL, except the brokers' own certificate subject and the admin user.
    assert props["authorizer.class.name"].endswith("StandardAuthorizer")
    assert props["allow.everyone.if.no.acl.found"] == "false"
    assert props["super.users"] == "User:CN=lakestream-kafka-broker;User:admin"
    # The tools on the node connect like a broker does: INTERNAL, with its certificate.
    admin = script.split("cat > /etc/kafka/admin.properties <<'PROPERTIES'\n")[1].split("\nPROP")[0]
    assert "security.protocol=SSL" in admin
    assert "ssl.keystore.location=/etc/kafka/tls/broker.pem" in admin
    assert "--command-config /etc/kafka/admin.properties --create" in script


def test_no_secret_is_in_the_user_data_only_where_to_read_it(terraform_bin, tmp_path) -> None:
    script = render(terraform_bin, tmp_path / "nosecret", node_id=1, broker_count=1)
    assert "BEGIN PRIVATE KEY" not in script.replace('grep -q "BEGIN PRIVATE KEY"', "")
    assert "password=" not in script.replace('password=" + escaped', "")  # the template
    fetch = inner_scripts(script)["kafka-fetch-tls"]
    assert 'parameter "/lakestream-kafka/broker-1/private-key" --with-decryption' in fetch
    assert 'parameter "/lakestream-kafka/broker-1/certificate" >>' in fetch
    assert 'parameter "/lakestream-kafka/ca-bundle" >' in fetch


def _stub(folder: Path, name: str, body: str) -> None:
    path = folder / name
    path.write_text("#!/bin/bash\n" + body)
    path.chmod(0o755)


def test_fetching_the_tls_material_writes_the_keystore_and_truststore(
    terraform_bin, tmp_path
) -> None:
    script = render(terraform_bin, tmp_path / "fetch", node_id=2, broker_count=3)
    bin_dir, tls_dir = tmp_path / "bin", tmp_path / "tls"
    bin_dir.mkdir()
    tls_dir.mkdir()
    # `aws ssm get-parameter --name NAME ...` answers with a PEM named after the parameter.
    _stub(
        bin_dir,
        "aws",
        """
echo "$@" >> "$(dirname "$0")/calls"
case "$6" in
  */private-key) printf -- '-----BEGIN PRIVATE KEY-----\\nKEY\\n-----END PRIVATE KEY-----\\n' ;;
  *) printf -- '-----BEGIN CERTIFICATE-----\\n%s\\n-----END CERTIFICATE-----\\n' "$6" ;;
esac
""",
    )
    fetch = inner_scripts(script)["kafka-fetch-tls"]
    fetch = fetch.replace("/etc/kafka/tls", str(tls_dir)).replace("chgrp kafka", "true")
    (tmp_path / "fetch.sh").write_text(fetch)
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin"}
    done = subprocess.run(
        [BASH, str(tmp_path / "fetch.sh")], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    keystore = (tls_dir / "broker.pem").read_text()
    assert keystore.index("BEGIN PRIVATE KEY") < keystore.index(
        "/lakestream-kafka/broker-2/certificate"
    )
    assert "/lakestream-kafka/ca-bundle" in (tls_dir / "ca.pem").read_text()
    assert oct((tls_dir / "broker.pem").stat().st_mode & 0o777) == "0o640"
    calls = (bin_dir / "calls").read_text().splitlines()
    assert all(c.startswith("--region eu-west-3 ssm get-parameter") for c in calls)
    assert sum("--with-decryption" in c for c in calls) == 1


# kafka-configs as Kafka 3.x runs `--alter --entity-type users --add-config-file`: the file is
# loaded by java.util.Properties and each SCRAM value must match ConfigCommand's pattern as it is
# (apache/kafka ConfigCommand.scala, parseConfigsToBeAdded and alterUserScramCredentialConfigs:
# the [brackets] are stripped only from --add-config). A refused value exits 1 quoting it.
KAFKA_CONFIGS = """#!{python}
import re, sys
sys.path.insert(0, {root!r})
from tests.infra.java_properties import load
args = sys.argv[1:]
log = open({log!r}, "a")
log.write("configs " + " ".join(args) + "\\n")
path = args[args.index("--add-config-file") + 1]
for mechanism, value in load(open(path, "rb").read()).items():
    match = re.fullmatch(r"(?:iterations=(-?[0-9]*),)?password=(.*)", value)
    if match is None:
        print(f"Invalid credential property {{mechanism}}={{value}}", file=sys.stderr)
        sys.exit(1)
    log.write(f"credential {{mechanism}} iterations={{match[1]}} password={{match[2]}}\\n")
log.write(f"file {{path}}\\n")
"""


def run_access(terraform_bin, tmp_path, password: Callable[[str], str], configs: str = ""):
    """The rendered kafka-access script with stand-ins for the AWS CLI and Kafka's tools; the
    AWS CLI answers each user's secret with {"username": user, "password": password(user)}."""
    script = render(terraform_bin, tmp_path / "access", node_id=1, broker_count=3)
    assert "systemctl enable --now --no-block kafka-access.service" in script
    access = inner_scripts(script)["kafka-access"]
    bin_dir, secrets = tmp_path / "bin", tmp_path / "secrets"
    bin_dir.mkdir()
    secrets.mkdir()
    for user in USERS:
        (secrets / f"{user}.json").write_text(
            json.dumps({"username": user, "password": password(user)})
        )
    log = bin_dir / "log"
    log.touch()
    _stub(bin_dir, "aws", f'cat "{secrets}/$(basename "$6" | sed \'s/-AbCdEf$//\').json"\n')
    _stub(bin_dir, "kafka-broker-api-versions.sh", "exit 0\n")
    _stub(bin_dir, "kafka-acls.sh", f'echo "acls $*" >> {log}\n')
    standin = bin_dir / "kafka-configs.sh"
    standin.write_text(
        configs or KAFKA_CONFIGS.format(python=sys.executable, root=str(INFRA.parent), log=str(log))
    )
    standin.chmod(0o755)
    (tmp_path / "access.sh").write_text(access.replace("BIN=/opt/kafka/bin", f"BIN={bin_dir}"))
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "TMPDIR": str(tmp_path)}
    done = subprocess.run(
        [BASH, str(tmp_path / "access.sh")], env=env, capture_output=True, text=True
    )
    return done, log.read_text().splitlines()


def test_the_first_node_creates_each_user_from_its_secret_and_grants_its_role(
    terraform_bin, tmp_path
) -> None:
    done, lines = run_access(terraform_bin, tmp_path, lambda user: f"pw-of-{user}")
    assert done.returncode == 0, done.stderr
    credentials = [line for line in lines if line.startswith("credential ")]
    # One credential per user, in Terraform's map order (by key), from that user's own secret,
    # as Kafka parses the file.
    assert credentials == [
        f"credential SCRAM-SHA-512 iterations=8192 password=pw-of-{u}" for u in sorted(USERS)
    ]
    files = [Path(line.removeprefix("file ")) for line in lines if line.startswith("file ")]
    assert len(files) == len(USERS)
    assert not any(f.exists() for f in files)  # the password's file is gone
    assert not list(tmp_path.glob("tmp.*"))
    configs = [line for line in lines if line.startswith("configs ")]
    for user, command in zip(sorted(USERS), configs, strict=True):
        assert f"--entity-type users --entity-name {user} --add-config-file" in command
        assert "pw-of" not in command  # never on a command line
        assert "--command-config /etc/kafka/admin.properties" in command
    assert "pw-of" not in done.stdout + done.stderr
    acls = [line for line in lines if line.startswith("acls ")]
    catalog = load_catalog(INFRA.parent / "lakestream" / "core" / "datasets.yaml")
    for ds in catalog:
        assert any(
            f"User:producers --operation Write --operation Describe --topic {ds.topic}" in a
            for a in acls
        )
        assert any(
            f"User:sink --operation Read --operation Describe --topic {ds.topic}" in a for a in acls
        )
    assert any(
        "User:sink --operation Read --operation Describe --group lakestream-sink "
        "--resource-pattern-type prefixed" in a
        for a in acls
    )
    # The producer writes and the sink reads, nothing more; admin is a super user, without ACLs.
    assert not any("User:producers" in a and "Read" in a for a in acls)
    assert not any("User:sink" in a and "Write" in a for a in acls)
    assert not any("User:admin" in a or "ANONYMOUS" in a for a in acls)
    assert "3 users and their ACLs are in place" in done.stdout


# What a password could hold if the generator changed (or an operator set one): the escaping
# must give Kafka the same password back.
AWKWARD = "a\\b=c:d,e#f!g [h] i\\\\j \u00e9\u20ac\U0001f600 "


def test_an_awkward_password_reaches_kafka_unchanged(terraform_bin, tmp_path) -> None:
    done, lines = run_access(terraform_bin, tmp_path, lambda _user: AWKWARD)
    assert done.returncode == 0, done.stderr
    credentials = [line for line in lines if line.startswith("credential ")]
    assert credentials == [
        f"credential SCRAM-SHA-512 iterations=8192 password={AWKWARD}" for _ in USERS
    ]


def test_a_refused_credential_stops_without_quoting_it_and_leaves_no_file(
    terraform_bin, tmp_path
) -> None:
    refusing = (
        "#!/bin/bash\n"
        'echo "Invalid credential property SCRAM-SHA-512=$(cat "${@: -1}")" >&2\n'
        "echo 'broker said no' >&2\n"
        "exit 1\n"
    )
    done, _ = run_access(terraform_bin, tmp_path, lambda user: f"pw-of-{user}", refusing)
    assert done.returncode == 1
    assert "pw-of" not in done.stdout + done.stderr
    assert "broker said no" in done.stderr
    assert "kafka-access: could not set the SCRAM credential of admin (exit 1)" in done.stderr
    assert not list(tmp_path.glob("tmp.*"))


def test_other_nodes_leave_users_to_the_first(terraform_bin, tmp_path) -> None:
    script = render(terraform_bin, tmp_path / "node2", node_id=2, broker_count=3)
    assert "/usr/local/sbin/kafka-access" not in script
    assert "kafka-access.service" not in script
    assert "kafka-fetch-tls" in script  # every node reads its own certificate


def test_the_plaintext_listener_exists_only_when_enabled(terraform_bin, tmp_path) -> None:
    script = render(
        terraform_bin, tmp_path / "plain", node_id=1, broker_count=1, plaintext_port=9095
    )
    props = properties(script)
    assert props["listeners"].endswith(",VPC://0.0.0.0:9095")
    assert props["advertised.listeners"].endswith(",VPC://10.0.1.10:9095")  # private address only
    assert props["listener.security.protocol.map"].endswith(",VPC:PLAINTEXT")
    access = inner_scripts(script)["kafka-access"]
    assert "grant_producer ANONYMOUS" in access
    assert "grant_consumer ANONYMOUS" in access


def test_every_inner_script_is_valid_bash(terraform_bin, tmp_path) -> None:
    script = render(
        terraform_bin, tmp_path / "syntax", node_id=1, broker_count=3, plaintext_port=9095
    )
    scripts = inner_scripts(script)
    assert set(scripts) == {
        "kafka-fetch-tls",
        "kafka-access",
        "kafka-create-topics",
        "kafka-data-volume",
    }
    bash = shutil.which("bash") or "/bin/bash"
    for name, body in scripts.items():
        path = tmp_path / name
        path.write_text(body)
        syntax = subprocess.run(
            [bash, "-n", str(path)], capture_output=True, text=True, check=False
        )
        assert syntax.returncode == 0, f"{name}: {syntax.stderr}"


def test_a_stopped_broker_is_a_clean_stop_for_systemd(terraform_bin, tmp_path) -> None:
    """kafka-server-stop sends SIGTERM; the JVM then exits 143, which systemd would count as a
    failure (and `Restart=on-failure` would fight the stop) without SuccessExitStatus."""
    script = render(terraform_bin, tmp_path / "unit", node_id=1, broker_count=1)
    unit = script.split("cat > /etc/systemd/system/kafka.service <<'UNIT'\n")[1].split("\nUNIT")[0]
    assert "SuccessExitStatus=143" in unit.splitlines()


def test_each_broker_names_its_zone_as_its_rack(terraform_bin, tmp_path) -> None:
    """With brokers in several zones, rack-aware placement keeps a partition's replicas apart."""
    for node in (1, 2):
        script = render(terraform_bin, tmp_path / f"rack{node}", node_id=node, broker_count=3)
        props = script.split("<<'PROPERTIES'\n")[1].split("\nPROPERTIES")[0].splitlines()
        assert f"broker.rack=eu-west-3{'abc'[node - 1]}" in props
    rack = KAFKA.of_type("aws_instance")["broker"]["user_data"]
    assert "data.aws_subnet.broker[var.subnet_ids[count.index % length(var.subnet_ids)]]" in rack
    assert ".availability_zone" in rack


# --- the Kafka log's own volume ---------------------------------------------------------------

# Stand-ins: the "device" is a file that holds `UUID=...` once it has a filesystem. blkid answers
# as util-linux does (exit 2: nothing found), mkfs.xfs writes a filesystem, kafka-storage.sh
# writes meta.properties with the cluster id it was given; each writes its call to the log.
DISK_STUBS = {
    "blkid": """
echo "blkid $*" >> "$LOG"
device="${@: -1}"
[ -n "${BLKID_FAILS:-}" ] && exit "$BLKID_FAILS"
grep -q '^UUID=' "$device" || exit 2
if [ "$2" = "-o" ]; then sed -n 's/^UUID=//p' "$device"; else echo "$device: TYPE=xfs"; fi
""",
    "mkfs.xfs": """
echo "mkfs.xfs $*" >> "$LOG"
device="${@: -1}"
if grep -q '^UUID=' "$device"; then echo "$device appears to contain a filesystem" >&2; exit 1; fi
echo "UUID=5a1e2f3c-0d4b-4c6e-8f9a-0b1c2d3e4f50" > "$device"
""",
    "mountpoint": 'echo "mountpoint $*" >> "$LOG"; exit 1\n',
    "mount": 'echo "mount $*" >> "$LOG"\n',
    "chown": 'echo "chown $*" >> "$LOG"\n',
    "sudo": 'echo "sudo $1 $2" >> "$LOG"; shift 2; exec env "$@"\n',
    "kafka-storage.sh": """
echo "kafka-storage.sh $*" >> "$LOG"
for arg in "$@"; do case "$arg" in --cluster-id=*) id=${arg#--cluster-id=} ;; esac; done
printf 'version=1\\ncluster.id=%s\\nnode.id=1\\n' "$id" > "$DATA_DIR/meta.properties"
""",
}


class Disk:
    """The rendered kafka-data-volume script, its paths moved under tmp_path, with stand-ins."""

    def __init__(self, terraform_bin: str, tmp_path: Path, wait_seconds: int = 300) -> None:
        script = render(
            terraform_bin, tmp_path / "render", 1, 1, data_volume_wait_seconds=wait_seconds
        )
        self.body = inner_scripts(script)["kafka-data-volume"]
        self.root = tmp_path
        self.bin = tmp_path / "bin"
        self.by_id = tmp_path / "dev" / "disk" / "by-id"
        self.device = tmp_path / "dev" / "nvme1n1"
        self.data = tmp_path / "var-lib-kafka-data"
        self.fstab = tmp_path / "fstab"
        self.log = tmp_path / "calls"
        for folder in (self.bin, self.by_id, self.data):
            folder.mkdir(parents=True, exist_ok=True)
        for name, body in DISK_STUBS.items():
            _stub(self.bin, name, body)
        self.fstab.write_text("UUID=0f0f-root / xfs defaults,noatime 1 1\n")
        self.log.touch()
        moved = self.body
        for line, value in {
            "DEVICE_DIR=/dev/disk/by-id": self.by_id,
            "FSTAB=/etc/fstab": self.fstab,
            "DATA=/var/lib/kafka/data": self.data,
            "BIN=/opt/kafka/bin": self.bin,
        }.items():
            assert f"\n{line}\n" in moved, line
            moved = moved.replace(f"\n{line}\n", f"\n{line.split('=')[0]}={value}\n")
        assert '"/dev/sdf"' in moved  # the Xen name, moved too so the test machine's disks are out
        self.path = tmp_path / "kafka-data-volume"
        self.path.write_text(moved.replace('"/dev/sdf"', f'"{tmp_path}/dev/sdf"'))

    def attach(self, contents: str = "") -> None:
        """The volume appears: a device, and udev's link named after the volume id."""
        self.device.write_text(contents)
        (self.by_id / f"nvme-Amazon_Elastic_Block_Store_{VOLUME_ID.replace('-', '')}").symlink_to(
            self.device
        )

    def run(self, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [BASH, str(self.path)],
            env={"PATH": f"{self.bin}:/usr/bin:/bin", "LOG": str(self.log),
                 "DATA_DIR": str(self.data), **env},
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip

    def calls(self, command: str) -> list[str]:
        return [c for c in self.log.read_text().splitlines() if c.split()[0] == command]

    def fstab_lines(self) -> list[str]:
        return [line for line in self.fstab.read_text().splitlines() if str(self.data) in line]


def test_a_blank_volume_is_formatted_mounted_by_uuid_and_its_storage_formatted_once(
    terraform_bin, tmp_path
) -> None:
    disk = Disk(terraform_bin, tmp_path)
    disk.attach()
    for _ in range(2):  # a second run (an operator, a retry) changes nothing
        done = disk.run()
        assert done.returncode == 0, done.stderr
    assert disk.calls("mkfs.xfs") == [f"mkfs.xfs -L kafka-data {disk.device}"]
    formats = disk.calls("kafka-storage.sh")
    assert len(formats) == 1
    assert "format --ignore-formatted --cluster-id=MkU3OEVBNTcwNTJENDM2Qg" in formats[0]
    assert disk.calls("sudo") == ["sudo -u kafka"]  # as the kafka user
    # One line for the log's mount point, by UUID, and a missing volume must not hang boot.
    assert disk.fstab_lines() == [
        f"UUID=5a1e2f3c-0d4b-4c6e-8f9a-0b1c2d3e4f50 {disk.data} xfs defaults,nofail,noatime 0 2"
    ]
    assert disk.fstab.read_text().startswith("UUID=0f0f-root / xfs")  # the rest is kept
    assert f"mount {disk.data}" in disk.calls("mount")
    assert f"chown kafka:kafka {disk.data}" in disk.calls("chown")
    assert "cluster.id=MkU3OEVBNTcwNTJENDM2Qg" in (disk.data / "meta.properties").read_text()


def test_a_replaced_brokers_volume_keeps_its_filesystem_and_its_log(
    terraform_bin, tmp_path
) -> None:
    disk = Disk(terraform_bin, tmp_path)
    disk.attach("UUID=77aa-old-volume\n")
    meta = "version=1\ncluster.id=MkU3OEVBNTcwNTJENDM2Qg\nnode.id=1\n"
    (disk.data / "meta.properties").write_text(meta)
    # The old instance's fstab line (another UUID) must not stay beside the new one.
    disk.fstab.write_text(disk.fstab.read_text() + f"UUID=dead-beef {disk.data} xfs nofail 0 2\n")
    done = disk.run()
    assert done.returncode == 0, done.stderr
    assert disk.calls("mkfs.xfs") == []
    assert disk.calls("kafka-storage.sh") == []
    assert (disk.data / "meta.properties").read_text() == meta
    assert disk.fstab_lines() == [
        f"UUID=77aa-old-volume {disk.data} xfs defaults,nofail,noatime 0 2"
    ]
    assert "holds this cluster's log: kept" in done.stdout


def test_a_volume_of_another_cluster_is_refused_untouched(terraform_bin, tmp_path) -> None:
    disk = Disk(terraform_bin, tmp_path)
    disk.attach("UUID=77aa-old-volume\n")
    (disk.data / "meta.properties").write_text("version=1\ncluster.id=SomeOtherCluster\n")
    done = disk.run()
    assert done.returncode == 1
    assert "belongs to cluster 'SomeOtherCluster', not MkU3OEVBNTcwNTJENDM2Qg" in done.stderr
    assert disk.calls("mkfs.xfs") == disk.calls("kafka-storage.sh") == []


def test_a_device_blkid_cannot_read_is_never_formatted(terraform_bin, tmp_path) -> None:
    disk = Disk(terraform_bin, tmp_path)
    disk.attach()
    done = disk.run(BLKID_FAILS="8")  # util-linux: ambivalent probe
    assert done.returncode == 1
    assert "blkid could not read" in done.stderr
    assert "not formatting it" in done.stderr
    assert disk.calls("mkfs.xfs") == disk.calls("kafka-storage.sh") == []


def test_a_volume_that_never_appears_fails_clearly_within_the_wait(terraform_bin, tmp_path) -> None:
    disk = Disk(terraform_bin, tmp_path, wait_seconds=2)
    started = time.monotonic()
    done = disk.run()
    assert time.monotonic() - started < 15
    assert done.returncode == 1
    assert f"the data volume {VOLUME_ID} did not appear within 2 s" in done.stderr
    assert "nvme-Amazon_Elastic_Block_Store_vol0123456789abcdef0" in done.stderr
    assert disk.calls("blkid") == disk.calls("mkfs.xfs") == disk.calls("kafka-storage.sh") == []


def test_kafka_never_starts_without_its_volume_and_first_boot_prepares_it_before_kafka(
    terraform_bin, tmp_path
) -> None:
    script = render(terraform_bin, tmp_path / "order", node_id=1, broker_count=1)
    unit = script.split("cat > /etc/systemd/system/kafka.service <<'UNIT'\n")[1].split("\nUNIT")[0]
    assert "RequiresMountsFor=/var/lib/kafka/data" in unit.splitlines()
    assert "log.dirs=/var/lib/kafka/data" in script
    lines = script.splitlines()
    prepare = lines.index("/usr/local/sbin/kafka-data-volume")
    assert lines.index("cat > \"$CONFIG\" <<'PROPERTIES'") < prepare  # it formats with the config
    assert prepare < lines.index("systemctl enable --now kafka.service")
    # Only the volume's script formats Kafka's storage, and only where meta.properties is missing.
    outside = script.replace(inner_scripts(script)["kafka-data-volume"], "")
    assert "kafka-storage.sh" not in outside
