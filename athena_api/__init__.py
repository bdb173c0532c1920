"""The Django REST API that runs parameterized Athena queries."""
