# The release the instance installs: the project's source (pyproject.toml and the packages), as
# a zip in the results bucket under releases/, checked by its SHA-256 at first boot.

data "archive_file" "release" {
  type        = "zip"
  source_dir  = var.source_dir
  output_path = "${path.root}/.terraform/lakestream-release.zip"
  excludes = [
    ".git/**", ".venv/**", ".venv-checkov/**", ".cache/**", ".lakestream/**", ".terraform/**",
    "**/__pycache__/**", "infra/**", "tests/**", "notebooks/**", "docs/**", "data/**",
    "bench-results/**", "**/.terraform/**", ".env", "**/*.pem",
  ]
}

resource "aws_s3_object" "release" {
  bucket      = var.release_bucket
  key         = "releases/lakestream-${substr(data.archive_file.release.output_sha256, 0, 16)}.zip"
  source      = data.archive_file.release.output_path
  source_hash = data.archive_file.release.output_sha256
  kms_key_id  = var.kms_key_arn
  tags        = local.tags
}
