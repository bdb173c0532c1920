"""`python -m athena_api`: serve the query API (and write its OpenAPI/Postman files)."""

import sys

from athena_api.cli import main

sys.exit(main())
