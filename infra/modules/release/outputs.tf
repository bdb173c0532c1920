output "files" {
  description = "The release's files, relative to source_dir, sorted."
  value       = local.files
}

output "requirements" {
  description = "Path, inside the release, of the locked production set the instances install with --require-hashes."
  value       = "tools/production.txt"
}
