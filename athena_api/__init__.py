"""The Django REST API that runs parameterized Athena queries (local DuckDB or Athena)."""
