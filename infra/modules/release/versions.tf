terraform {
  # No provider: this module only lists files, so it also runs (and is tested) on a machine that
  # cannot download one.
  required_version = ">= 1.5"
}
