"""The roof: the `lakestream` command and the orchestration of the demo, the benchmarks and the
`.env` written from Terraform. It drives every stage; nothing below imports it."""
