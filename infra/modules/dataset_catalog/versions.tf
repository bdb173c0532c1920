terraform {
  # No provider: this module only reads the catalog file and derives names, so it also runs
  # (and is tested) on a machine that cannot download providers.
  required_version = ">= 1.5"
}
