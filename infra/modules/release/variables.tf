variable "source_dir" {
  description = "The project's root: the folder of pyproject.toml, the Python packages and tools/production.txt."
  type        = string

  validation {
    condition     = fileexists("${var.source_dir}/pyproject.toml") && fileexists("${var.source_dir}/tools/production.txt")
    error_message = "The source_dir must be the project's root, with pyproject.toml and tools/production.txt (make lock writes it)."
  }
}
