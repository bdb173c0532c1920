variable "source_dir" {
  description = "The project's root: the folder of pyproject.toml and tools/release.txt, the list of the release's files."
  type        = string

  validation {
    condition     = fileexists("${var.source_dir}/pyproject.toml") && fileexists("${var.source_dir}/tools/release.txt")
    error_message = "The source_dir must be the project's root, with pyproject.toml and tools/release.txt (make manifest writes it)."
  }
}
