# The release the instance installs: the files the release module lists (the packages' source
# and data, pyproject.toml and the locked production set; never the working tree), zipped
# into the results bucket under releases/, and checked by its SHA-256 at first boot.

module "release" {
  source = "../release"

  source_dir = var.source_dir
}

data "archive_file" "release" {
  type        = "zip"
  output_path = "${path.root}/.terraform/lakestream-release.zip"

  dynamic "source" {
    for_each = toset(module.release.files)
    content {
      filename = source.value
      content  = file("${var.source_dir}/${source.value}")
    }
  }
}

resource "aws_s3_object" "release" {
  bucket      = var.release_bucket
  key         = "releases/lakestream-${substr(data.archive_file.release.output_sha256, 0, 16)}.zip"
  source      = data.archive_file.release.output_path
  source_hash = data.archive_file.release.output_sha256
  kms_key_id  = var.kms_key_arn
  tags        = local.tags
}
