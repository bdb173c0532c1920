# One least-privilege policy per stage, as documents: what each stage's code calls (recorded by
# tests/infra/test_stage_policies.py) and what AWS checks on its behalf (KMS for the encrypted
# objects and secrets; Athena reading the tables and writing results as the API).
#
# Two S3 facts shape them. A read of a key that may not exist (the sink's partition state,
# pyarrow's existence checks during curation) answers 404 only to a caller allowed to list the
# bucket, without a prefix: 403 otherwise, which the code cannot tell from a refusal. So the
# writers may list their buckets. The API's listings carry a prefix and are held to it.

locals {
  s3       = "arn:${var.partition}:s3:::"
  glue     = "arn:${var.partition}:glue:${var.region}:${var.account_id}"
  datasets = values(var.datasets)
  buckets  = distinct([for d in local.datasets : "${local.s3}${d.bucket}"])

  catalog          = "${local.glue}:catalog"
  raw_database     = "${local.glue}:database/${var.raw_database}"
  curated_database = "${local.glue}:database/${var.curated_database}"
  raw_tables       = [for d in local.datasets : "${local.glue}:table/${var.raw_database}/${d.table}"]
  crawlers         = [for d in local.datasets : "${local.glue}:crawler/${d.crawler}"]
  curated_tables   = [for d in local.datasets : "${local.glue}:table/${var.curated_database}/${d.table}"]

  raw_objects      = [for d in local.datasets : "${local.s3}${d.bucket}/${d.table}/*"]
  curated_objects  = [for d in local.datasets : "${local.s3}${d.bucket}/${d.curated_prefix}/*"]
  sink_dlq_objects = [for d in local.datasets : "${local.s3}${d.bucket}/_dlq/${d.topic}/*"]
  state_objects    = [for d in local.datasets : "${local.s3}${d.bucket}/_state/${d.topic}+*"]
  lease_objects    = [for d in local.datasets : "${local.s3}${d.bucket}/_state/${d.topic}+*.lease"]
  results_bucket   = "${local.s3}${var.results_bucket}"
  results_objects  = "${local.s3}${var.results_bucket}/${var.results_prefix}*"

  via_s3      = "s3.${var.region}.amazonaws.com"
  via_secrets = "secretsmanager.${var.region}.amazonaws.com"

  # The lake's key, through S3 only: data keys for what a stage writes, decryption for what it
  # reads (and for multipart uploads, which decrypt the data key to finish).
  lake_key_for_objects = {
    Sid       = "UseLakeKeyForObjects"
    Effect    = "Allow"
    Action    = ["kms:Decrypt", "kms:GenerateDataKey"]
    Resource  = [var.kms_key_arn]
    Condition = { StringEquals = { "kms:ViaService" = [local.via_s3] } }
  }

  # The writers list their buckets, without a prefix: a read of a key that may not exist then
  # answers 404 (see above).
  list_lake_buckets = {
    Sid      = "ListLakeBuckets"
    Effect   = "Allow"
    Action   = ["s3:ListBucket"]
    Resource = local.buckets
  }

  kafka_credentials = {
    for stage, user in var.stage_kafka_users : stage => [
      {
        Sid      = "ReadKafkaCredentials"
        Effect   = "Allow"
        Action   = ["secretsmanager:GetSecretValue"]
        Resource = [var.kafka_user_secrets[user]]
      },
      {
        Sid       = "DecryptKafkaCredentials"
        Effect    = "Allow"
        Action    = ["kms:Decrypt"]
        Resource  = [var.kms_key_arn]
        Condition = { StringEquals = { "kms:ViaService" = [local.via_secrets] } }
      },
    ]
  }

  statements = {
    # make produce: Kafka only; its password comes from Secrets Manager.
    producers = local.kafka_credentials["producers"]

    # make consume: raw batches, dead letters and partition state under its own prefixes;
    # partitions registered in the raw tables.
    sink = concat(local.kafka_credentials["sink"], [
      local.list_lake_buckets,
      {
        Sid      = "ReadPartitionState"
        Effect   = "Allow"
        Action   = ["s3:GetObject"]
        Resource = local.state_objects
      },
      {
        # Delete: the objects of an attempt that crashed before its commit (its manifest says
        # which), when the next attempt splits the same records differently.
        Sid      = "WriteBatches"
        Effect   = "Allow"
        Action   = ["s3:PutObject", "s3:DeleteObject"]
        Resource = concat(local.raw_objects, local.sink_dlq_objects)
      },
      {
        Sid      = "WritePartitionState"
        Effect   = "Allow"
        Action   = ["s3:PutObject"]
        Resource = local.state_objects
      },
      {
        # Manual assignment's partition leases (consumers/leases.py): released on a clean stop
        # with a conditional delete, which also needs s3:GetObject (ReadPartitionState).
        Sid      = "ReleasePartitionLeases"
        Effect   = "Allow"
        Action   = ["s3:DeleteObject"]
        Resource = local.lease_objects
      },
      {
        Sid      = "RegisterPartitions"
        Effect   = "Allow"
        Action   = ["glue:GetTable", "glue:BatchCreatePartition"]
        Resource = concat([local.catalog, local.raw_database], local.raw_tables)
      },
      local.lake_key_for_objects,
    ])

    # make curate, make maintain: raw data read (and deleted past the retention), curated
    # tables written and committed; the sink's committed offsets read from Kafka.
    curation = concat(local.kafka_credentials["curation"], [
      local.list_lake_buckets,
      {
        Sid      = "ReadRawAndDeleteItPastRetention"
        Effect   = "Allow"
        Action   = ["s3:GetObject", "s3:DeleteObject"]
        Resource = local.raw_objects
      },
      {
        Sid      = "WriteCuratedTables"
        Effect   = "Allow"
        Action   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
        Resource = local.curated_objects
      },
      {
        Sid      = "WriteDeadLetters"
        Effect   = "Allow"
        Action   = ["s3:PutObject"]
        Resource = [for d in local.datasets : "${local.s3}${d.bucket}/_dlq/curated/${d.topic}/*"]
      },
      {
        Sid      = "CommitCuratedTables"
        Effect   = "Allow"
        Action   = ["glue:GetDatabase", "glue:GetTable", "glue:UpdateTable"]
        Resource = concat([local.catalog, local.curated_database], local.curated_tables)
      },
      {
        # Retention lists the raw table's partitions, to drop every emptied day before the cutoff.
        Sid      = "DropExpiredRawPartitions"
        Effect   = "Allow"
        Action   = ["glue:GetPartitions", "glue:BatchDeletePartition"]
        Resource = concat([local.catalog, local.raw_database], local.raw_tables)
      },
      local.lake_key_for_objects,
    ])

    # make crawl: start the datasets' crawlers and wait for each to finish (glue/crawler.py);
    # the crawlers themselves run as their own role (glue_catalog module). With --missing (the
    # curation instance, every 10 minutes), first: is the raw table there, and is there data?
    crawl = [
      {
        Sid      = "RunCrawlers"
        Effect   = "Allow"
        Action   = ["glue:StartCrawler", "glue:GetCrawler"]
        Resource = local.crawlers
      },
      {
        Sid      = "FindMissingTables"
        Effect   = "Allow"
        Action   = ["glue:GetTable"]
        Resource = concat([local.catalog, local.raw_database], local.raw_tables)
      },
      {
        Sid      = "FindRawData"
        Effect   = "Allow"
        Action   = ["s3:ListBucket"]
        Resource = local.buckets
        Condition = {
          StringLike = { "s3:prefix" = [for d in local.datasets : "${d.table}/*"] }
        }
      },
    ]

    # The query API: queries in its workgroup; Athena reads the tables and writes the results
    # with these permissions. Lake reads are what the tables, their dead letters (stats) and
    # the Iceberg metadata (time travel) hold, listings included.
    api = concat(
      # Without a deployed API there is no key to read (a for-expression keeps one type).
      [for statement in [
        {
          Sid      = "ReadApiKey"
          Effect   = "Allow"
          Action   = ["secretsmanager:GetSecretValue"]
          Resource = [var.api_key_secret_arn]
        },
        {
          Sid       = "DecryptApiKey"
          Effect    = "Allow"
          Action    = ["kms:Decrypt"]
          Resource  = [var.kms_key_arn]
          Condition = { StringEquals = { "kms:ViaService" = [local.via_secrets] } }
        },
      ] : statement if var.api_key_secret_arn != null],
      [
        {
          Sid    = "RunQueriesInTheWorkgroup"
          Effect = "Allow"
          Action = [
            "athena:StartQueryExecution",
            "athena:GetQueryExecution",
            "athena:GetQueryResults",
            "athena:StopQueryExecution",
          ]
          Resource = ["arn:${var.partition}:athena:${var.region}:${var.account_id}:workgroup/${var.workgroup}"]
        },
        {
          Sid      = "DescribeTables"
          Effect   = "Allow"
          Action   = ["glue:GetDatabase", "glue:GetTable", "glue:GetPartitions"]
          Resource = concat([local.catalog, local.raw_database, local.curated_database], local.raw_tables, local.curated_tables)
        },
        {
          Sid    = "ListTables"
          Effect = "Allow"
          Action = ["glue:GetTables"]
          Resource = [
            local.catalog, local.raw_database, local.curated_database,
            "${local.glue}:table/${var.raw_database}/*", "${local.glue}:table/${var.curated_database}/*",
          ]
        },
        {
          Sid      = "ListTablePrefixes"
          Effect   = "Allow"
          Action   = ["s3:ListBucket"]
          Resource = local.buckets
          Condition = {
            StringLike = {
              "s3:prefix" = flatten([for d in local.datasets : ["${d.table}/*", "${d.curated_prefix}/*", "_dlq/${d.topic}/*"]])
            }
          }
        },
        {
          Sid      = "LocateBuckets"
          Effect   = "Allow"
          Action   = ["s3:GetBucketLocation"]
          Resource = concat(local.buckets, [local.results_bucket])
        },
        {
          Sid      = "ReadTables"
          Effect   = "Allow"
          Action   = ["s3:GetObject"]
          Resource = concat(local.raw_objects, local.curated_objects, local.sink_dlq_objects)
        },
        {
          Sid    = "ListResults"
          Effect = "Allow"
          Action = ["s3:ListBucket", "s3:ListBucketMultipartUploads"]
          # ListBucketMultipartUploads has no s3:prefix key: the results bucket holds nothing else.
          Resource = [local.results_bucket]
        },
        {
          Sid      = "WriteResults"
          Effect   = "Allow"
          Action   = ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"]
          Resource = [local.results_objects]
        },
        local.lake_key_for_objects,
      ],
    )
  }
}
