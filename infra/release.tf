# The release every service instance installs (the API, the sink, curation): the files the
# release module lists (the packages' source and data, pyproject.toml and the locked production
# set; never the working tree), zipped into the results bucket under releases/, and checked by
# its SHA-256 at first boot (modules/ssm_instance/first_boot.sh.tftpl).

module "release" {
  source = "./modules/release"

  source_dir = local.source_dir
}

locals {
  source_dir = abspath("${path.root}/..")
}

data "archive_file" "release" {
  type        = "zip"
  output_path = "${path.root}/.terraform/lakestream-release.zip"

  dynamic "source" {
    for_each = toset(module.release.files)
    content {
      filename = source.value
      content  = file("${local.source_dir}/${source.value}")
    }
  }
}

resource "aws_s3_object" "release" {
  bucket      = module.s3_lake.results_bucket_name
  key         = "releases/lakestream-${substr(data.archive_file.release.output_sha256, 0, 16)}.zip"
  source      = data.archive_file.release.output_path
  source_hash = data.archive_file.release.output_sha256
  kms_key_id  = aws_kms_key.lake.arn
}

locals {
  # What ssm_instance takes: where the release is, its hash, and its locked set.
  release = {
    bucket       = aws_s3_object.release.bucket
    key          = aws_s3_object.release.key
    sha256       = data.archive_file.release.output_sha256
    requirements = module.release.requirements
    kms_key_arn  = aws_kms_key.lake.arn
  }
}

# Deployments made when the release was the API's own keep their object: moved, not uploaded again.
moved {
  from = module.api[0].aws_s3_object.release
  to   = aws_s3_object.release
}
