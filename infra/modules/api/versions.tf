terraform {
  required_version = ">= 1.11" # write-only arguments (the API key)

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 6.10, < 7.0"
    }
    random = {
      source  = "hashicorp/random"
      version = ">= 3.7, < 4.0"
    }
    archive = {
      source = "hashicorp/archive"
      # archive_file with several `source` blocks, entries written without timestamps.
      version = ">= 2.4, < 3.0"
    }
  }
}
