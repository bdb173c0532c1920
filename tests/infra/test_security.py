"""Secure by default, read off the parsed configuration: infra/README.md's security baseline."""

from __future__ import annotations

import json
import re

import hcl2
import pytest

from tests.infra.hcl import INFRA, MODULES, OPTIONS, all_configs, load, one

WORLD = ("0.0.0.0/0", "::/0")
KAFKA = load(MODULES / "kafka")
LAKE = load(MODULES / "s3_lake")
GLUE = load(MODULES / "glue_catalog")
ATHENA = load(MODULES / "athena")
CURATED = load(MODULES / "curated_lake")
ROOT = load(INFRA)


def _text(value: object) -> str:
    return json.dumps(value)


# --- network ------------------------------------------------------------------------------------


@pytest.mark.parametrize("config", all_configs(), ids=lambda c: c.path.name)
def test_no_ingress_from_the_whole_internet(config) -> None:
    # Inline rules would hide from this check: every rule is its own resource.
    for name, group in config.of_type("aws_security_group").items():
        assert "ingress" not in group, f"inline ingress rules in {name}"
        assert "egress" not in group, f"inline egress rules in {name}"
    assert not config.of_type("aws_security_group_rule"), "use aws_vpc_security_group_*_rule"
    for name, rule in config.of_type("aws_vpc_security_group_ingress_rule").items():
        for key in ("cidr_ipv4", "cidr_ipv6"):
            assert all(world not in str(rule.get(key, "")) for world in WORLD), name


def test_clients_reach_port_9092_only_from_client_cidrs() -> None:
    rules = KAFKA.of_type("aws_vpc_security_group_ingress_rule")
    assert set(rules) == {"client", "client_group", "plaintext", "cluster"}
    # The PLAINTEXT port opens only when asked for, and only to the private ranges given.
    plaintext = rules["plaintext"]
    assert plaintext["for_each"] == (
        "${var.plaintext_listener ? toset(var.plaintext_cidrs) : toset([])}"
    )
    assert KAFKA.variables["plaintext_listener"]["default"] is False
    assert plaintext["from_port"] == plaintext["to_port"] == "${local.plaintext_port}"
    client = rules["client"]
    assert client["for_each"] == "${toset(var.client_cidrs)}"
    assert KAFKA.locals["client_port"] == 9092
    assert client["from_port"] == client["to_port"] == "${local.client_port}"
    # The services in the VPC: the client port only, by their security groups, which the root
    # names (the sink's, curation's).
    group = rules["client_group"]
    assert group["for_each"] == "${var.client_security_groups}"
    assert group["from_port"] == group["to_port"] == "${local.client_port}"
    assert group["referenced_security_group_id"] == "${each.value}"
    assert "cidr_ipv4" not in group
    assert set(ROOT.modules["kafka"]["client_security_groups"]) == {"sink", "curation"}
    # Controller and replication ports only from the brokers' own group.
    cluster = rules["cluster"]
    assert cluster["referenced_security_group_id"] == "${aws_security_group.broker.id}"
    assert "cidr_ipv4" not in cluster
    assert "cidr_ipv6" not in cluster


def test_client_cidrs_refuse_the_whole_internet() -> None:
    # The kafka module owns the rule; the root passes the value straight through to it.
    conditions = " ".join(v["condition"] for v in KAFKA.variables["client_cidrs"]["validation"])
    assert "/0$" in conditions
    assert ROOT.modules["kafka"]["client_cidrs"] == "${var.client_cidrs}"
    for config in (ROOT, KAFKA):
        assert "default" not in config.variables["client_cidrs"], "a default would hide the choice"


def test_egress_is_https_and_cluster_traffic_only() -> None:
    egress = KAFKA.of_type("aws_vpc_security_group_egress_rule")
    for name, rule in egress.items():
        assert rule["ip_protocol"] == "tcp", name
        if "cidr_ipv4" in rule:
            assert rule["from_port"] == rule["to_port"] == 443, name


# --- instances ----------------------------------------------------------------------------------

SSM_INSTANCE = load(MODULES / "ssm_instance")
INSTANCES = [
    (config.path.name, kind, name, body)
    for config in all_configs()
    for kind in ("aws_instance", "aws_launch_template")
    for name, body in config.of_type(kind).items()
]


def test_every_instance_and_launch_template_requires_imdsv2_and_encrypts_its_root_volume() -> None:
    assert {(module, kind) for module, kind, _, _ in INSTANCES} == {
        ("kafka", "aws_instance"),
        ("api", "aws_instance"),
        ("ssm_instance", "aws_launch_template"),
    }
    for module, kind, name, body in INSTANCES:
        where = f"{module}: {kind}.{name}"
        metadata = one(body["metadata_options"])
        assert metadata["http_endpoint"] == "enabled", where
        assert metadata["http_tokens"] == "required", where
        assert metadata["http_put_response_hop_limit"] == 1, where
        assert "key_name" not in body, f"{where}: no SSH key, Systems Manager is the way in"
        if kind == "aws_instance":
            assert one(body["root_block_device"])["encrypted"] is True, where
        else:
            # The root volume is the mapping named after the image's root device.
            mapping = one(body["block_device_mappings"])
            assert mapping["device_name"].endswith(".root_device_name}"), where
            assert one(mapping["ebs"])["encrypted"] is True, where


def test_brokers_have_no_public_address_of_their_own() -> None:
    # Their Elastic IPs (public_access) sit on the network interfaces, created before them.
    assert "associate_public_ip_address" not in KAFKA.of_type("aws_instance")["broker"]


PROFILE_OUTPUT = re.compile(r"\$\{module\.(\w+)\.instance_profile_name\}")


def test_every_instance_role_is_the_shared_modules() -> None:
    """An instance role written again in another module would escape the checks below."""
    for config in all_configs():
        if config.path == MODULES / "ssm_instance":
            continue
        for (kind, name), document in config.data.items():
            if kind == "aws_iam_policy_document":
                assert "ec2.amazonaws.com" not in _text(document), f"{config.path.name}: {name}"
        for name, instance in config.of_type("aws_instance").items():
            profile = PROFILE_OUTPUT.fullmatch(instance["iam_instance_profile"])
            assert profile, f"{config.path.name}: aws_instance.{name} has its own profile"
            assert config.modules[profile.group(1)]["source"] == "../ssm_instance"


def test_the_shared_role_is_ec2s_with_systems_managers_policy_and_the_callers() -> None:
    assume = one(SSM_INSTANCE.data[("aws_iam_policy_document", "assume_ec2")]["statement"])
    assert assume["actions"] == ["sts:AssumeRole"]
    principal = one(assume["principals"])
    assert (principal["type"], principal["identifiers"]) == ("Service", ["ec2.amazonaws.com"])
    attachments = SSM_INSTANCE.of_type("aws_iam_role_policy_attachment")
    assert set(attachments) == {"ssm", "managed"}
    assert attachments["ssm"]["policy_arn"].endswith(
        ":iam::aws:policy/AmazonSSMManagedInstanceCore"
    )
    assert attachments["managed"]["policy_arn"] == "${var.policy_arns[count.index]}"
    inline = SSM_INSTANCE.of_type("aws_iam_role_policy")["inline"]
    assert (inline["for_each"], inline["policy"]) == (
        "${local.all_inline_policies}",
        "${each.value}",
    )
    # The caller's, and those the module writes for what it is given (its release, its logs).
    merged = SSM_INSTANCE.locals["all_inline_policies"]
    assert "var.inline_policies" in merged
    assert "read-release = data.aws_iam_policy_document.release[0].json" in merged
    assert "write-logs = data.aws_iam_policy_document.logs[0].json" in merged
    logs = one(SSM_INSTANCE.data[("aws_iam_policy_document", "logs")]["statement"])
    assert sorted(logs["actions"]) == [
        "logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"
    ]  # fmt: skip
    assert logs["resources"] == ["${aws_cloudwatch_log_group.service[0].arn}:*"]
    # First boot uses the policies: whatever names the profile launches after them.
    profile = SSM_INSTANCE.of_type("aws_iam_instance_profile")["this"]
    assert set(profile["depends_on"]) == {
        "${aws_iam_role_policy_attachment.ssm}",
        "${aws_iam_role_policy_attachment.managed}",
        "${aws_iam_role_policy.inline}",
    }
    template = SSM_INSTANCE.of_type("aws_launch_template")["this"]
    assert one(template["iam_instance_profile"])["arn"] == "${aws_iam_instance_profile.this.arn}"


def test_brokers_are_reached_through_systems_manager_only() -> None:
    # The shared role: Systems Manager's core policy, no managed policy of the caller's, and two
    # inline policies: first boot reads its TLS material and the users' secrets, and the agent
    # publishes the data volume's use in the project's namespace, nothing else.
    assert not KAFKA.of_type("aws_iam_role_policy_attachment")
    call = KAFKA.modules["broker"]
    assert call["source"] == "../ssm_instance"
    assert "policy_arns" not in call
    assert call["inline_policies"] == {
        "read-tls-material-and-user-secrets": "${data.aws_iam_policy_document.broker.json}",
        "put-disk-metrics": "${data.aws_iam_policy_document.disk_metrics.json}",
    }
    disk = _statements(KAFKA, "disk_metrics")["PutDiskMetrics"]
    assert disk["actions"] == ["cloudwatch:PutMetricData"]
    condition = one(disk["condition"])
    assert (condition["variable"], condition["values"]) == ("cloudwatch:namespace", ["lakestream"])
    broker = KAFKA.of_type("aws_instance")["broker"]
    assert broker["iam_instance_profile"] == "${module.broker.instance_profile_name}"
    statements = _statements(KAFKA, "broker")
    assert statements["ReadTlsMaterial"]["actions"] == ["ssm:GetParameter"]
    assert "aws_ssm_parameter.broker_key[*].arn" in _text(statements["ReadTlsMaterial"])
    assert statements["ReadUserSecrets"]["actions"] == ["secretsmanager:GetSecretValue"]
    assert "aws_secretsmanager_secret.user" in _text(statements["ReadUserSecrets"]["resources"])
    decrypt = one(KAFKA.data[("aws_iam_policy_document", "broker")]["dynamic"])["statement"]
    content = one(decrypt["content"])
    assert content["actions"] == ["kms:Decrypt"]
    assert one(content["condition"])["variable"] == "kms:ViaService"


def test_a_broker_is_never_replaced_by_a_new_image_or_new_user_data() -> None:
    """The brokers hold the Kafka log: they are rolled one at a time, on purpose."""
    lifecycle = one(KAFKA.of_type("aws_instance")["broker"]["lifecycle"])
    assert set(lifecycle["ignore_changes"]) == {"ami", "user_data"}
    assert "launch_template" not in KAFKA.of_type("aws_instance")["broker"]


def test_every_broker_has_an_encrypted_data_volume_in_its_zone_attached_to_it() -> None:
    """The Kafka log's volume outlives the instance; it must be encrypted like the root volume."""
    broker = KAFKA.of_type("aws_instance")["broker"]
    volume = KAFKA.of_type("aws_ebs_volume")["data"]
    attachment = KAFKA.of_type("aws_volume_attachment")["data"]
    assert volume["count"] == attachment["count"] == broker["count"] == "${var.broker_count}"
    assert volume["encrypted"] is True
    assert volume["kms_key_id"] == one(broker["root_block_device"])["kms_key_id"]
    assert (volume["type"], volume["size"]) == ("gp3", "${var.data_volume_size_gb}")
    # The zone of broker i's subnet: the same subnet its network interface (and rack) uses.
    subnet = "var.subnet_ids[count.index % length(var.subnet_ids)]"
    assert volume["availability_zone"] == f"${{data.aws_subnet.broker[{subnet}].availability_zone}}"
    assert KAFKA.of_type("aws_network_interface")["broker"]["subnet_id"] == f"${{{subnet}}}"
    # Broker i gets volume i, and first boot looks for that volume's id.
    assert attachment["volume_id"] == "${aws_ebs_volume.data[count.index].id}"
    assert attachment["instance_id"] == "${aws_instance.broker[count.index].id}"
    assert "data_volume_id = aws_ebs_volume.data[count.index].id" in broker["user_data"]
    # A mounted volume leaves a running instance badly: the old broker is stopped first.
    assert attachment["stop_instance_before_detaching"] is True
    assert "skip_destroy" not in attachment
    assert "force_detach" not in attachment
    # volume_tags would also claim the data volume (its tags are its own resource's).
    assert "volume_tags" not in broker
    assert one(broker["root_block_device"])["delete_on_termination"] is True


def test_user_passwords_never_reach_the_state_and_keys_are_encrypted() -> None:
    version = KAFKA.of_type("aws_secretsmanager_secret_version")["user"]
    assert "secret_string" not in version
    assert "ephemeral.random_password.user" in version["secret_string_wo"]
    secret = KAFKA.of_type("aws_secretsmanager_secret")["user"]
    assert secret["kms_key_id"] == "${var.kms_key_arn}"
    key = KAFKA.of_type("aws_ssm_parameter")["broker_key"]
    assert key["type"] == "SecureString"
    assert key["key_id"] == "${var.kms_key_arn}"
    assert ROOT.modules["kafka"]["kms_key_arn"] == "${aws_kms_key.lake.arn}"
    # No secret goes through the user data: names and ARNs only.
    user_data = KAFKA.of_type("aws_instance")["broker"]["user_data"]
    assert "private_key" not in user_data
    assert "random_password" not in user_data


# --- buckets ------------------------------------------------------------------------------------

COMPANIONS = (
    "aws_s3_bucket_server_side_encryption_configuration",
    "aws_s3_bucket_public_access_block",
    "aws_s3_bucket_versioning",
    "aws_s3_bucket_ownership_controls",
    "aws_s3_bucket_policy",
    "aws_s3_bucket_lifecycle_configuration",
)


@pytest.mark.parametrize("bucket", sorted(LAKE.of_type("aws_s3_bucket")))
def test_every_bucket_has_every_safeguard(bucket: str) -> None:
    body = LAKE.of_type("aws_s3_bucket")[bucket]
    iterator = body.get("for_each") or body.get("count")
    for kind in COMPANIONS:
        companion = LAKE.resources.get((kind, bucket))
        assert companion, f"aws_s3_bucket.{bucket} has no {kind}"
        assert f"aws_s3_bucket.{bucket}" in companion["bucket"], kind
        # The same set of buckets: for_each over the same map, or a count tied to the bucket.
        same = companion.get("for_each") == iterator or f"aws_s3_bucket.{bucket}" in str(
            companion.get("count")
        )
        assert same, f"{kind}.{bucket} does not cover every bucket"
    block = LAKE.resources[("aws_s3_bucket_public_access_block", bucket)]
    for flag in ("block_public_acls", "block_public_policy", "ignore_public_acls"):
        assert block[flag] is True, flag
    assert block["restrict_public_buckets"] is True
    ownership = one(LAKE.resources[("aws_s3_bucket_ownership_controls", bucket)]["rule"])
    assert ownership["object_ownership"] == "BucketOwnerEnforced"
    versioning = LAKE.resources[("aws_s3_bucket_versioning", bucket)]
    assert one(versioning["versioning_configuration"])["status"] == "Enabled"
    sse = one(
        LAKE.resources[("aws_s3_bucket_server_side_encryption_configuration", bucket)]["rule"]
    )
    assert one(sse["apply_server_side_encryption_by_default"])["sse_algorithm"]


def test_every_bucket_policy_denies_plain_http() -> None:
    documents = {
        name: doc for (kind, name), doc in LAKE.data.items() if kind == "aws_iam_policy_document"
    }
    for name, policy in LAKE.of_type("aws_s3_bucket_policy").items():
        source = policy["policy"].split("aws_iam_policy_document.")[1].split("[")[0]
        deny = [s for s in documents[source]["statement"] if s.get("effect") == "Deny"]
        assert deny, f"bucket policy {name} denies nothing"
        condition = one(deny[0]["condition"])
        assert (condition["variable"], condition["values"]) == ("aws:SecureTransport", ["false"])
        assert deny[0]["actions"] == ["s3:*"]


def test_lake_encryption_defaults_to_kms_with_a_rotated_key() -> None:
    assert LAKE.variables["sse_algorithm"]["default"] == "aws:kms"
    assert ROOT.variables["lake_sse_algorithm"]["default"] == "aws:kms"
    key = ROOT.of_type("aws_kms_key")["lake"]
    assert key["enable_key_rotation"] is True
    assert ROOT.modules["s3_lake"]["kms_key_arn"] == "${aws_kms_key.lake.arn}"


def test_lifecycle_expires_dead_letters_and_results_and_moves_raw_data() -> None:
    lifecycle = LAKE.resources[("aws_s3_bucket_lifecycle_configuration", "this")]
    dynamic = {one(d["rule"]["content"])["id"]: d["rule"] for d in lifecycle["dynamic"]}
    # Each kind of bucket has its expiration: dead letters, or the workgroup's results.
    expirations = LAKE.locals["expirations"]
    assert set(expirations) == {"dataset", "results"}
    assert (expirations["dataset"]["prefix"], expirations["dataset"]["days"]) == (
        "_dlq/",
        "${var.dead_letter_expiration_days}",
    )
    assert (expirations["results"]["prefix"], expirations["results"]["days"]) == (
        "results/",
        "${var.results_expiration_days}",
    )
    (expiring,) = [r for r in lifecycle["rule"] if "local.expirations" in r["id"]]
    assert expiring["id"] == "${local.expirations[each.value.kind].id}"
    assert one(expiring["filter"])["prefix"] == "${local.expirations[each.value.kind].prefix}"
    assert one(expiring["expiration"])["days"] == "${local.expirations[each.value.kind].days}"
    raw = next(rule for rid, rule in dynamic.items() if rid.startswith("move-raw-data-to-"))
    steps = {d_name: d for d in one(raw["content"])["dynamic"] for d_name in d}
    transition = steps["transition"]["transition"]
    assert one(transition["content"])["storage_class"] == "${transition.value}"
    assert "var.raw_storage_class" in transition["for_each"]
    # Raw data expires after raw_expiration_days, when set (the curated layer's retention).
    expiration = steps["expiration"]["expiration"]
    assert "var.raw_expiration_days == null ? []" in expiration["for_each"]
    assert one(expiration["content"])["days"] == "${expiration.value}"
    assert "each.value.prefix" in raw["for_each"], "raw data is the table prefix"


# --- glue and athena ----------------------------------------------------------------------------


def test_crawlers_read_their_table_prefix_without_dead_letters() -> None:
    crawler = GLUE.of_type("aws_glue_crawler")["dataset"]
    assert crawler["for_each"] == "${var.datasets}"
    target = one(crawler["s3_target"])
    assert target["path"] == "s3://${each.value.bucket}/${each.value.table}/"
    # From the dataset catalog, like the local crawlers (tests/infra/test_catalog_module.py).
    assert target["exclusions"] == "${var.exclusions}"
    assert crawler["security_configuration"].startswith("${aws_glue_security_configuration.")
    assert one(crawler["schema_change_policy"])["delete_behavior"] == "LOG"
    assert "recrawl_policy" in crawler
    assert crawler["schedule"] == "${var.schedule}"
    assert GLUE.variables["schedule"]["default"] is None


def test_iam_policies_grant_no_wildcard_action() -> None:
    for config in all_configs():
        for (kind, name), doc in config.data.items():
            if kind != "aws_iam_policy_document":
                continue
            for statement in doc["statement"]:
                if statement.get("effect", "Allow") != "Allow":
                    continue
                for action in statement["actions"]:
                    verb = action.partition(":")[2]
                    if (config.path, name) == (INFRA, "lake_key"):
                        continue  # the key policy delegates to IAM, as AWS recommends
                    assert verb != "*", f"{name} allows {action}"
                    assert action != "*", f"{name} allows everything"


def test_crawler_role_is_scoped_to_the_lake() -> None:
    statements = {
        s["sid"]: s for s in GLUE.data[("aws_iam_policy_document", "crawler")]["statement"]
    }
    assert statements["ReadTablePrefixes"]["actions"] == ["s3:GetObject"]
    assert "${d.table}/*" in statements["ReadTablePrefixes"]["resources"]
    assert "s3:prefix" in _text(statements["ListTablePrefixes"]["condition"])
    glue_resources = statements["WriteLakeTables"]["resources"]
    assert "table/${var.database_name}/${d.table}" in glue_resources
    assert not any(a.startswith(("glue:Delete", "glue:BatchDelete")) for a in _text(statements))
    for sid, statement in statements.items():
        if statement["resources"] == ["*"]:
            assert statement["actions"] == ["glue:GetSecurityConfiguration"], sid
    logs = statements["WriteCrawlerLogs"]["resources"]
    assert all("log-group:/aws-glue/crawlers" in r for r in logs)


def _statements(config, document: str) -> dict[str, dict]:
    return {s["sid"]: s for s in config.data[("aws_iam_policy_document", document)]["statement"]}


def test_the_optimizers_write_and_delete_only_under_the_curated_prefixes() -> None:
    statements = _statements(CURATED, "optimizer")
    for sid, statement in statements.items():
        actions = statement["actions"]
        if any(a in ("s3:PutObject", "s3:DeleteObject") for a in actions):
            assert statement["resources"] == "${local.curated_objects}", sid
        assert not any(
            a.startswith(("glue:Delete", "glue:Create", "glue:BatchDelete")) for a in actions
        )
        if any(a.startswith("glue:") for a in actions):
            assert statement["resources"] == "${concat(local.catalog_arns, local.table_arns)}", sid
        if sid != "PublishOptimizerMetrics":
            assert statement["resources"] != ["*"], sid
    assert "trimprefix(d.location" in CURATED.locals["curated_objects"]
    assert "s3:prefix" in _text(statements["ListCuratedPrefixes"])


def test_the_optimizers_may_publish_their_metrics_in_glues_namespace_only() -> None:
    """AWS's documented optimizer role publishes metrics; without it the optimizers' figures
    never reach CloudWatch. PutMetricData takes no resource: a namespace condition scopes it."""
    statement = _statements(CURATED, "optimizer")["PublishOptimizerMetrics"]
    assert statement["actions"] == ["cloudwatch:PutMetricData"]
    condition = one(statement["condition"])
    assert condition["variable"] == "cloudwatch:namespace"
    assert condition["values"] == ["AWS/Glue*"]


def test_every_curated_table_gets_the_three_optimizers_and_keeps_its_commits() -> None:
    assert CURATED.variables["optimizers"]["default"] == [
        "compaction",
        "retention",
        "orphan_file_deletion",
    ]
    assert "setproduct(keys(var.datasets), var.optimizers)" in CURATED.locals["optimizers"]
    optimizer = CURATED.of_type("aws_glue_catalog_table_optimizer")["curated"]
    assert optimizer["for_each"] == "${local.optimizers}"
    assert one(optimizer["configuration"])["role_arn"] == "${aws_iam_role.optimizer.arn}"
    table = CURATED.of_type("aws_glue_catalog_table")["curated"]
    iceberg = one(one(table["open_table_format_input"])["iceberg_input"])
    assert iceberg["metadata_operation"] == "CREATE"
    # Each commit moves metadata_location (a parameter) and may add columns: apply keeps them.
    ignored = _text(one(table["lifecycle"])["ignore_changes"])
    for attribute in ("parameters", "storage_descriptor"):
        assert attribute in ignored


def test_athena_workgroup_is_enforced_encrypted_and_capped() -> None:
    workgroup = ATHENA.of_type("aws_athena_workgroup")["lake"]
    configuration = one(workgroup["configuration"])
    assert configuration["enforce_workgroup_configuration"] is True
    assert configuration["publish_cloudwatch_metrics_enabled"] is True
    assert configuration["bytes_scanned_cutoff_per_query"] == "${var.bytes_scanned_cutoff}"
    engine = one(configuration["engine_version"])
    assert engine["selected_engine_version"] == "Athena engine version 3"
    encryption = one(one(configuration["result_configuration"])["encryption_configuration"])
    assert encryption["encryption_option"] == "SSE_KMS"


def test_bytes_scanned_cutoff_matches_the_embedded_stack() -> None:
    from lakestream.stack.provision import BYTES_SCANNED_CUTOFF

    assert ATHENA.variables["bytes_scanned_cutoff"]["default"] == BYTES_SCANNED_CUTOFF
    assert ROOT.variables["bytes_scanned_cutoff"]["default"] == BYTES_SCANNED_CUTOFF


# EC2's rule for security-group and rule descriptions (CreateSecurityGroup, the
# AuthorizeSecurityGroup* IpRanges): up to 255 characters of a-z, A-Z, 0-9, spaces and
# ._-:/()#,@[]+=&;{}!$*. Anything else, an apostrophe say, fails the apply with
# InvalidParameterValue; no offline check but this one sees it.
EC2_DESCRIPTION = re.compile(r"[a-zA-Z0-9. _\-:/()#,@\[\]+=&;{}!$*]{0,255}")
SECURITY_GROUP_KINDS = (
    "aws_security_group",
    "aws_vpc_security_group_ingress_rule",
    "aws_vpc_security_group_egress_rule",
)


def _literal_text(description: str) -> str:
    """The description's own words: interpolations are replaced by a placeholder of legal
    characters (what they insert, a CIDR or a port, is checked where it is declared)."""
    text = re.sub(r"\$\{(?:[^{}]|\{[^{}]*\})*\}", "x", description)
    return re.sub(r"%\{[^}]*\}", "", text)


@pytest.mark.parametrize("config", all_configs(), ids=lambda c: c.path.name)
def test_security_group_descriptions_use_only_what_ec2_accepts(config) -> None:
    for kind in SECURITY_GROUP_KINDS:
        for name, body in config.of_type(kind).items():
            description = body.get("description")
            if description is None:
                continue
            text = _literal_text(str(description))
            assert EC2_DESCRIPTION.fullmatch(text), (
                f"{config.path.name}: {kind}.{name} description {description!r} has characters "
                "EC2 refuses"
            )


def test_the_description_rule_refuses_an_apostrophe() -> None:
    assert not EC2_DESCRIPTION.fullmatch(_literal_text("To the API instance's gunicorn"))
    assert EC2_DESCRIPTION.fullmatch(_literal_text("API clients from ${each.value[0]} on 443"))


def test_the_shipped_backend_keeps_the_state_encrypted_and_locked() -> None:
    """The state holds the brokers' private keys: the README's first step is this backend."""
    doc = hcl2.loads((INFRA / "backend.tf.example").read_text(), serialization_options=OPTIONS)
    (backend,) = [b["s3"] for t in doc["terraform"] for b in t["backend"]]
    assert backend["encrypt"] is True
    assert backend["use_lockfile"] is True
    assert backend["kms_key_id"]
    apply = (INFRA / "README.md").read_text().split("## Apply", 1)[1]
    assert apply.index("cp backend.tf.example backend.tf") < apply.index("terraform init")


def test_default_subnets_are_in_zones_that_offer_every_instance_type() -> None:
    """A subnet picked by id alone can be in a zone without the instance type: the launch fails."""
    offerings = ROOT.data[("aws_ec2_instance_type_offerings", "zones")]
    assert offerings["location_type"] == "availability-zone"
    (offered,) = offerings["filter"]
    assert offered["name"] == "instance-type"
    assert offered["values"] == ["${each.value}"]
    assert offerings["for_each"] == "${var.subnet_ids == null ? local.instance_types : {}}"
    launched = ROOT.locals["instance_types"]
    assert set(launched) == {"broker", "api", "sink", "curation"}
    for kind, variable in launched.items():
        assert variable == f"${{var.{kind}_instance_type}}"
    subnets = ROOT.data[("aws_subnets", "brokers")]
    zones = [f for f in subnets["filter"] if f["name"] == "availability-zone"]
    assert len(zones) == 1
    # Every type's zones, intersected.
    assert "setintersection([for o in values(data.aws_ec2_instance_type_offerings.zones)" in str(
        zones[0]["values"]
    )


def test_every_bucket_sheds_old_versions_and_leftover_delete_markers() -> None:
    lifecycle = LAKE.of_type("aws_s3_bucket_lifecycle_configuration")["this"]
    (catch_all,) = [
        r for r in lifecycle["rule"] if r["id"] == "abort-uploads-and-expire-old-versions"
    ]
    assert one(catch_all["noncurrent_version_expiration"])["noncurrent_days"]
    assert one(catch_all["expiration"])["expired_object_delete_marker"] is True


@pytest.mark.parametrize("module", ["kafka", "api"])
def test_the_image_follows_the_instance_types_architecture(module) -> None:
    """A Graviton type (t4g, m7g) cannot boot the x86_64 image: the lookup must follow it."""
    config = load(MODULES / module)
    lookup = config.data[("aws_ssm_parameter", "al2023")]["name"]
    assert "al2023-ami-kernel-default-" in lookup
    assert "supported_architectures" in lookup
    assert '"arm64"' in lookup
    assert lookup.count("x86_64") == 1  # the fallback, never the only choice
    (kind,) = [name for (kind, name) in config.data if kind == "aws_ec2_instance_type"]
    assert config.data[("aws_ec2_instance_type", kind)]["instance_type"] == "${var.instance_type}"


def test_the_heap_is_bounded_by_the_instance_memory_not_the_disk() -> None:
    broker = KAFKA.of_type("aws_instance")["broker"]
    (condition,) = [p["condition"] for p in one(broker["lifecycle"])["precondition"]]
    assert "data.aws_ec2_instance_type.broker.memory_size" in condition
    assert "root_volume_size_gb" not in condition
