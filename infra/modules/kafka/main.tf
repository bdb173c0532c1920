# Apache Kafka in KRaft mode on EC2: every node is broker and controller. Each broker gets a
# network interface created before its instance, so every node's address is known when the
# user data is rendered and the controller quorum can be written down statically.
#
# Clients authenticate with SCRAM-SHA-512 over TLS (SASL_SSL, users.tf); brokers talk to each
# other and to the controllers over mutually authenticated TLS (tls.tf). PLAINTEXT exists only
# as an opt-in listener on the private addresses (plaintext_listener).

locals {
  client_port     = 9092
  controller_port = 9093
  internal_port   = 9094
  plaintext_port  = 9095

  replication_factor  = min(3, var.broker_count)
  min_insync_replicas = local.replication_factor > 1 ? local.replication_factor - 1 : 1

  quorum_voters = join(",", [
    for i, eni in aws_network_interface.broker : "${i + 1}@${eni.private_ip}:${local.controller_port}"
  ])
  advertised_hosts = [
    for i, eni in aws_network_interface.broker : var.public_access ? aws_eip.broker[i].public_dns : eni.private_ip
  ]

  ami_id = var.ami_id != null ? var.ami_id : nonsensitive(data.aws_ssm_parameter.al2023[0].value)
  tags   = merge(var.tags, { Component = "kafka" })

  # The data volume's name in the attachment. Nitro instances show it as /dev/nvmeXn1 whatever
  # this says; first boot finds it by its volume id (the NVMe serial), this name is the fallback
  # for Xen instances, where amazon-ec2-utils links /dev/sdf to /dev/xvdf.
  data_device_name = "/dev/sdf"
  # How long first boot waits for the attachment, which Terraform makes once the instance runs.
  data_volume_wait_seconds = 300
}

data "aws_partition" "current" {}

data "aws_region" "current" {}

# The instance type's facts: its architecture picks the image (a Graviton type such as t4g or m7g
# gets the arm64 Amazon Linux 2023), its memory bounds the heap.
data "aws_ec2_instance_type" "broker" {
  instance_type = var.instance_type
}

# Each broker's rack is its subnet's Availability Zone: Kafka then puts the replicas of a
# partition in different zones, so losing a zone loses no partition.
data "aws_subnet" "broker" {
  for_each = toset(var.subnet_ids)
  id       = each.value
}

data "aws_ssm_parameter" "al2023" {
  count = var.ami_id == null ? 1 : 0
  name  = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-${contains(data.aws_ec2_instance_type.broker.supported_architectures, "arm64") ? "arm64" : "x86_64"}"
}

# The KRaft cluster id: 16 random bytes, base64url without padding, the same on every node.
resource "random_id" "cluster" {
  byte_length = 16
}

# --- network -------------------------------------------------------------------------------

resource "aws_security_group" "broker" {
  name_prefix = "${var.name}-"
  description = "Kafka brokers: SASL_SSL clients on ${local.client_port} from the client CIDRs only; controller and replication traffic between brokers"
  vpc_id      = var.vpc_id
  tags        = merge(local.tags, { Name = var.name })

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_ingress_rule" "client" {
  for_each = toset(var.client_cidrs)

  security_group_id = aws_security_group.broker.id
  description       = "Kafka clients from ${each.value}"
  ip_protocol       = "tcp"
  from_port         = local.client_port
  to_port           = local.client_port
  cidr_ipv4         = strcontains(each.value, ":") ? null : each.value
  cidr_ipv6         = strcontains(each.value, ":") ? each.value : null
  tags              = local.tags
}

# The pipeline's services in the VPC (the sink, curation): by security group, not by address.
resource "aws_vpc_security_group_ingress_rule" "client_group" {
  for_each = var.client_security_groups

  security_group_id            = aws_security_group.broker.id
  description                  = "Kafka clients: the ${each.key} instances"
  ip_protocol                  = "tcp"
  from_port                    = local.client_port
  to_port                      = local.client_port
  referenced_security_group_id = each.value
  tags                         = local.tags
}

resource "aws_vpc_security_group_ingress_rule" "plaintext" {
  for_each = var.plaintext_listener ? toset(var.plaintext_cidrs) : toset([])

  security_group_id = aws_security_group.broker.id
  description       = "Kafka PLAINTEXT clients in the private VPC range ${each.value}"
  ip_protocol       = "tcp"
  from_port         = local.plaintext_port
  to_port           = local.plaintext_port
  cidr_ipv4         = strcontains(each.value, ":") ? null : each.value
  cidr_ipv6         = strcontains(each.value, ":") ? each.value : null
  tags              = local.tags
}

resource "aws_vpc_security_group_ingress_rule" "cluster" {
  security_group_id            = aws_security_group.broker.id
  description                  = "KRaft controller and inter-broker replication between brokers"
  ip_protocol                  = "tcp"
  from_port                    = local.controller_port
  to_port                      = local.internal_port
  referenced_security_group_id = aws_security_group.broker.id
  tags                         = local.tags
}

resource "aws_vpc_security_group_egress_rule" "cluster" {
  security_group_id            = aws_security_group.broker.id
  description                  = "KRaft controller and inter-broker replication between brokers"
  ip_protocol                  = "tcp"
  from_port                    = local.controller_port
  to_port                      = local.internal_port
  referenced_security_group_id = aws_security_group.broker.id
  tags                         = local.tags
}

# HTTPS only: package repositories, the Kafka download and the SSM endpoints. DNS and NTP go to
# the VPC's link-local resolvers, which security groups do not filter.
resource "aws_vpc_security_group_egress_rule" "https" {
  security_group_id = aws_security_group.broker.id
  description       = "HTTPS for packages, the Kafka release and Systems Manager"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
  tags              = local.tags
}

resource "aws_network_interface" "broker" {
  count = var.broker_count

  subnet_id       = var.subnet_ids[count.index % length(var.subnet_ids)]
  security_groups = [aws_security_group.broker.id]
  description     = "${var.name} node ${count.index + 1}"
  tags            = merge(local.tags, { Name = "${var.name}-${count.index + 1}" })
}

resource "aws_eip" "broker" {
  #checkov:skip=CKV2_AWS_19:Associated with the broker's primary network interface before launch (aws_eip_association.broker): the instance's address from first boot.
  count = var.public_access ? var.broker_count : 0

  domain = "vpc"
  tags   = merge(local.tags, { Name = "${var.name}-${count.index + 1}" })
}

# The address goes on the network interface before the instance exists (the instance depends on
# it), so the broker has its public address, and a way out, from the first second of boot: with
# the association made after launch, dnf and the Kafka download at first boot raced it.
resource "aws_eip_association" "broker" {
  count = var.public_access ? var.broker_count : 0

  allocation_id        = aws_eip.broker[count.index].id
  network_interface_id = aws_network_interface.broker[count.index].id
}

# --- identity: Systems Manager instead of SSH ----------------------------------------------

# What first boot reads: the CA bundle, the brokers' certificates and keys, and the users'
# secrets (node 1 creates the users); the key only through those two services.
data "aws_iam_policy_document" "broker" {
  statement {
    sid     = "ReadTlsMaterial"
    actions = ["ssm:GetParameter"]
    resources = concat(
      [aws_ssm_parameter.ca_bundle.arn],
      aws_ssm_parameter.broker_certificate[*].arn,
      aws_ssm_parameter.broker_key[*].arn,
    )
  }

  statement {
    sid       = "ReadUserSecrets"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [for secret in aws_secretsmanager_secret.user : secret.arn]
  }

  dynamic "statement" {
    for_each = var.kms_key_arn == null ? [] : [var.kms_key_arn]

    content {
      sid       = "DecryptThroughParameterStoreAndSecretsManager"
      actions   = ["kms:Decrypt"]
      resources = [statement.value]

      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values = [
          "ssm.${data.aws_region.current.region}.amazonaws.com",
          "secretsmanager.${data.aws_region.current.region}.amazonaws.com",
        ]
      }
    }
  }
}

# The CloudWatch agent on each broker: the data volume's use once a minute, as the metric
# lakestream/broker_disk_used_percent with the dimensions InstanceId, path and fstype, which
# the root's disk alarm names (modules/monitoring).
locals {
  data_path = "/var/lib/kafka/data"
  agent_config = jsonencode({
    agent = { metrics_collection_interval = 60, omit_hostname = true }
    metrics = {
      namespace         = "lakestream"
      append_dimensions = { InstanceId = "$${aws:InstanceId}" }
      metrics_collected = {
        disk = {
          resources   = [local.data_path]
          measurement = [{ name = "used_percent", rename = "broker_disk_used_percent", unit = "Percent" }]
          drop_device = true
        }
      }
    }
  })
}

# The agent publishes in the project's namespace only.
data "aws_iam_policy_document" "disk_metrics" {
  statement {
    sid       = "PutDiskMetrics"
    actions   = ["cloudwatch:PutMetricData"]
    resources = ["*"] # PutMetricData has no resource: the namespace condition scopes it

    condition {
      test     = "StringEquals"
      variable = "cloudwatch:namespace"
      values   = ["lakestream"]
    }
  }
}

# The brokers' role and profile: Systems Manager sessions, the reads above, the disk metric.
module "broker" {
  source = "../ssm_instance"

  name        = var.name
  description = "Kafka brokers: Systems Manager sessions, their TLS material and the users' secrets"
  inline_policies = {
    read-tls-material-and-user-secrets = data.aws_iam_policy_document.broker.json
    put-disk-metrics                   = data.aws_iam_policy_document.disk_metrics.json
  }
  tags = local.tags
}

# Deployments made before the shared module keep their role and profile: moved, not replaced.
moved {
  from = aws_iam_role.broker
  to   = module.broker.aws_iam_role.this
}

moved {
  from = aws_iam_role_policy_attachment.ssm
  to   = module.broker.aws_iam_role_policy_attachment.ssm
}

moved {
  from = aws_iam_role_policy.broker
  to   = module.broker.aws_iam_role_policy.inline["read-tls-material-and-user-secrets"]
}

moved {
  from = aws_iam_instance_profile.broker
  to   = module.broker.aws_iam_instance_profile.this
}

# --- brokers -------------------------------------------------------------------------------

resource "aws_instance" "broker" {
  count = var.broker_count

  ami                  = local.ami_id
  instance_type        = var.instance_type
  iam_instance_profile = module.broker.instance_profile_name
  monitoring           = var.detailed_monitoring
  ebs_optimized        = true

  primary_network_interface {
    network_interface_id = aws_network_interface.broker[count.index].id
  }

  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
  }

  root_block_device {
    encrypted             = true
    kms_key_id            = var.ebs_kms_key_arn
    volume_type           = "gp3"
    volume_size           = var.root_volume_size_gb
    delete_on_termination = true
    # Not volume_tags: those would also claim the data volume, whose tags are its own resource's
    # (the provider warns of resources cycling when both are used).
    tags = merge(local.tags, { Name = "${var.name}-${count.index + 1}" })
  }

  user_data = templatefile("${path.module}/user_data.sh.tftpl", {
    node_id         = count.index + 1
    region          = data.aws_region.current.region
    broker_count    = var.broker_count
    cluster_id      = random_id.cluster.b64_url
    quorum_voters   = local.quorum_voters
    advertised_host = local.advertised_hosts[count.index]
    rack            = data.aws_subnet.broker[var.subnet_ids[count.index % length(var.subnet_ids)]].availability_zone
    private_ip      = aws_network_interface.broker[count.index].private_ip
    client_port     = local.client_port
    controller_port = local.controller_port
    internal_port   = local.internal_port
    plaintext_port  = var.plaintext_listener ? local.plaintext_port : 0
    # TLS material and users: names and ARNs only; the broker reads the values at boot.
    ca_parameter          = aws_ssm_parameter.ca_bundle.name
    certificate_parameter = aws_ssm_parameter.broker_certificate[count.index].name
    key_parameter         = aws_ssm_parameter.broker_key[count.index].name
    broker_principal      = local.broker_principal
    users = {
      for user, role in var.users : user => { role = role, secret = aws_secretsmanager_secret.user[user].arn }
    }
    consumer_group_prefix = var.consumer_group_prefix
    replication_factor    = local.replication_factor
    min_insync_replicas   = local.min_insync_replicas
    log_retention_hours   = var.log_retention_hours
    heap_mb               = var.heap_mb
    kafka_version         = var.kafka_version
    scala_version         = var.scala_version
    kafka_sha512          = var.kafka_sha512
    download_base_url     = var.download_base_url
    # The Kafka log's own volume: found by its id, formatted only when blank.
    data_volume_id           = aws_ebs_volume.data[count.index].id
    data_device_name         = local.data_device_name
    data_volume_wait_seconds = local.data_volume_wait_seconds
    # Users, ACLs and topics are created once, by the first node, when the cluster answers.
    manage_access = count.index == 0
    create_topics = count.index == 0 && length(var.topics) > 0
    topics        = var.topics
    # The data volume's use, for the broker disk alarm (CloudWatch agent).
    agent_config = local.agent_config
  })

  tags = merge(local.tags, { Name = "${var.name}-${count.index + 1}" })

  # First boot reads these: they exist before the instance starts (and the role may read them
  # before its profile exists).
  depends_on = [
    aws_eip_association.broker,
    aws_ssm_parameter.ca_bundle,
    aws_ssm_parameter.broker_certificate,
    aws_ssm_parameter.broker_key,
    aws_secretsmanager_secret_version.user,
  ]

  lifecycle {
    # User data runs at first boot only, and a new AMI must not replace a broker and its log by
    # surprise: roll brokers one at a time with `terraform apply -replace=...` instead.
    ignore_changes = [ami, user_data]

    # Kafka lives on the page cache: the heap may take half the memory at most.
    precondition {
      condition     = var.heap_mb * 2 <= data.aws_ec2_instance_type.broker.memory_size
      error_message = "The heap (heap_mb) cannot be more than half the instance type's memory (memory_size, MiB): leave the rest to the page cache."
    }
  }
}

# --- the Kafka log's volume ------------------------------------------------------------------

# Each broker's log (KRaft metadata and partitions) lives on a volume of its own, not on the root
# volume: replacing the instance (a new AMI, new user data, another type) keeps the volume, which
# the new instance mounts, so it comes back with its data and cluster id instead of copying every
# partition from the other brokers (or, with one broker, losing them). The volume is in the
# broker's subnet's zone, as a volume can only attach there.
#
# No prevent_destroy: it would make `terraform destroy` (how infra/README.md stops the bill) fail
# for everyone. What destroys a volume is `terraform destroy`, a new zone (subnet_ids changed) or
# a new key (ebs_kms_key_arn): the plan says "must be replaced" on aws_ebs_volume.data, and the
# README says to read it.
resource "aws_ebs_volume" "data" {
  count = var.broker_count

  availability_zone = data.aws_subnet.broker[var.subnet_ids[count.index % length(var.subnet_ids)]].availability_zone
  type              = "gp3"
  size              = var.data_volume_size_gb
  encrypted         = true
  kms_key_id        = var.ebs_kms_key_arn
  tags              = merge(local.tags, { Name = "${var.name}-${count.index + 1}-data" })
}

# A new instance gets the volume once it runs (first boot waits for it). Replacing an instance
# replaces its attachment first: the old instance is stopped before the volume leaves it, so
# Kafka shuts down cleanly and the filesystem is unmounted; detaching a mounted volume from a
# running instance would otherwise leave it busy and the apply waiting.
resource "aws_volume_attachment" "data" {
  count = var.broker_count

  device_name                    = local.data_device_name
  volume_id                      = aws_ebs_volume.data[count.index].id
  instance_id                    = aws_instance.broker[count.index].id
  stop_instance_before_detaching = true
}
