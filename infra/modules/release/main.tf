# What a release holds: an allowlist, never the working tree. The packages' source and data
# files, the project's metadata and the locked production set. A working tree also holds
# virtualenvs, caches (.hypothesis/, __pycache__/), *.egg-info, run folders and files with
# secrets (.env, an admin.properties with a Kafka password): none of them can match these
# patterns, so none is shipped, and none changes the release's hash when a test run rewrites it.

locals {
  # The packages of pyproject.toml's [tool.setuptools.packages.find] (tests/infra/test_release.py
  # keeps the two lists equal).
  packages = [
    "lakestream", "simulator", "producers", "consumers", "curation", "glue", "engines",
    "athena_api",
  ]
  # Source and package data (the catalog, saved SQL, the dashboard, the Postman collection),
  # and how the instance installs: pyproject.toml builds the project, README.md is its readme,
  # tools/production.txt the locked, hash-pinned set of what it needs.
  patterns = concat(
    [for package in local.packages : "${package}/**/*.{py,yaml,sql,json,html,js,css,md}"],
    ["pyproject.toml", "README.md", "tools/production.txt"],
  )

  files = sort(distinct(flatten([for pattern in local.patterns : tolist(fileset(var.source_dir, pattern))])))
}
