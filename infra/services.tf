# The stages that move data, as services: the sink (an Auto Scaling group of sink_count
# instances running `python -m consumers`) and curation (one instance running `python -m
# curation` on a timer, and `maintain` daily, never at once; and the first crawl of each raw
# table once it has data, so that Athena finds it with nobody running `make crawl`). Each runs the release the API
# runs, as its own Kafka user, with its stage's least-privilege policy; their logs and metrics go
# to CloudWatch, and the alarms of modules/monitoring watch them.

locals {
  # What every service runs with: the settings `make env` writes, minus the laptop's catalog
  # path (the release packages its own), plus its Kafka user's secret and the brokers' CA.
  kafka_ca_file = "/etc/lakestream/kafka-ca.pem"
  service_settings = {
    for k, v in local.lakestream_settings : k => v if k != "LAKESTREAM_CATALOG"
  }

  kafka_client = {
    for user in ["sink", "curation"] : user => merge(local.service_settings, {
      KAFKA_SASL_PASSWORD = "secretsmanager:${module.kafka.user_secret_arns[user]}"
      KAFKA_SSL_CAFILE    = local.kafka_ca_file
    })
  }
}

module "sink" {
  source = "./modules/service_group"

  name           = "${local.names.base}-sink"
  component      = "sink"
  description    = "The sink: its stage policy, Systems Manager sessions, its release, its logs"
  instance_count = var.sink_count
  instance_type  = var.sink_instance_type
  vpc_id         = local.vpc_id
  subnet_ids     = local.subnet_ids
  policy_arns    = [aws_iam_policy.stage["sink"].arn]
  release        = local.release

  kafka_security_group_id = module.kafka.security_group_id

  service = {
    environment = local.kafka_client["sink"]
    files       = { (local.kafka_ca_file) = module.kafka.ca_bundle }
    units = [{
      name        = "lakestream-sink"
      description = "lakestream sink: the dataset topics into the raw lake"
      command     = "-m consumers --quiet"
      # SIGTERM writes and commits the open batches (a few seconds at the default limits).
      stop_timeout_seconds = 120
    }]
  }

  log_kms_key_arn    = aws_kms_key.lake.arn
  log_retention_days = var.log_retention_days
}

module "curation" {
  source = "./modules/service_group"

  name           = "${local.names.base}-curation"
  component      = "curation"
  description    = "Curation: its stage policy, Systems Manager sessions, its release, its logs"
  instance_count = var.curation_enabled ? 1 : 0
  instance_type  = var.curation_instance_type
  vpc_id         = local.vpc_id
  subnet_ids     = local.subnet_ids
  policy_arns    = [aws_iam_policy.stage["curation"].arn, aws_iam_policy.stage["crawl"].arn]
  release        = local.release

  kafka_security_group_id = module.kafka.security_group_id

  service = {
    environment = local.kafka_client["curation"]
    files       = { (local.kafka_ca_file) = module.kafka.ca_bundle }
    # One lock: a pass and maintenance never run at once, and a timer never starts a second
    # pass while one runs.
    units = [
      {
        name                 = "lakestream-curation"
        description          = "lakestream curation: one pass over every table"
        command              = "-m curation --json"
        schedule             = var.curation_schedule
        lock                 = "curation"
        stop_timeout_seconds = 60
      },
      {
        # Starts a crawler only for a raw table that is missing while its prefix holds data:
        # once the tables exist it starts nothing (the sink registers each new day).
        name        = "lakestream-crawl"
        description = "lakestream: the first crawl of each raw table that has data"
        command     = "-m glue crawl --missing"
        schedule    = "*:0/10"
      },
      {
        name                 = "lakestream-maintain"
        description          = "lakestream maintenance: compaction, snapshot expiry, orphans, retention"
        command              = "-m curation maintain --json"
        schedule             = var.maintain_schedule
        lock                 = "curation"
        stop_timeout_seconds = 60
      },
    ]
  }

  log_kms_key_arn    = aws_kms_key.lake.arn
  log_retention_days = var.log_retention_days
}

module "monitoring" {
  source = "./modules/monitoring"

  name       = local.names.base
  deployment = local.names.base
  topics     = [for d in values(module.catalog.datasets) : d.topic]
  tables     = [for d in values(module.catalog.datasets) : d.table]

  sink_autoscaling_group     = var.sink_count > 0 ? module.sink.autoscaling_group_name : null
  sink_log_group             = module.sink.log_group_name
  curation_autoscaling_group = var.curation_enabled ? module.curation.autoscaling_group_name : null
  curation_log_group         = module.curation.log_group_name
  api                        = var.api_enabled ? module.api[0].cloudwatch : null
  api_log_group              = var.api_enabled ? module.api[0].log_group_name : null
  broker_instance_ids        = module.kafka.instance_ids
  broker_data_path           = module.kafka.data_path

  alarm_email            = var.alarm_email
  kms_key_arn            = aws_kms_key.lake.arn
  consumer_lag_threshold = var.consumer_lag_threshold
  curation_lag_threshold = var.curation_lag_threshold
}
