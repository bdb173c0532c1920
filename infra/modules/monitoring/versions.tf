terraform {
  required_version = ">= 1.9" # validation conditions that refer to another variable

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 6.10, < 7.0"
    }
  }
}
