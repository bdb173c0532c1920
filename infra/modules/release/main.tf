# What a release holds: the files tools/release.txt lists, never the working tree. `make
# manifest` writes that list from git's index (the tracked files of the packages, pyproject.toml,
# README.md and tools/production.txt), and the suite fails when it is stale. A working tree also
# holds virtualenvs, caches, *.egg-info, run folders, scratch files and files with secrets (.env,
# an admin.properties, an exported Postman environment): none of them is tracked, so none is
# shipped, and none changes the release's hash when a test run rewrites it.

locals {
  manifest = "${var.source_dir}/tools/release.txt"
  files    = sort(compact([for line in split("\n", file(local.manifest)) : trimspace(line)]))
}
