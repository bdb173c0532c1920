terraform {
  # No provider: the documents are data, so Terraform can evaluate this module anywhere (the
  # tests render it with the resources of a recorded run and compare). The root creates the
  # aws_iam_policy resources from its outputs.
  required_version = ">= 1.5"
}
