terraform {
  required_version = ">= 1.11" # write-only arguments (the Kafka users' passwords)

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 6.10, < 7.0"
    }
    random = {
      source = "hashicorp/random"
      # 3.7 added the ephemeral random_password.
      version = ">= 3.7, < 4.0"
    }
    archive = {
      source = "hashicorp/archive"
      # archive_file with several `source` blocks, entries written without timestamps.
      version = ">= 2.4, < 3.0"
    }
    tls = {
      source  = "hashicorp/tls"
      version = ">= 4.0, < 5.0"
    }
  }
}

provider "aws" {
  region = var.region

  default_tags {
    tags = merge(var.tags, { Project = "lakestream" })
  }
}
