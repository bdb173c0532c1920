"""`python -m athena_api` (not built yet: issue #7)."""

import argparse
import sys

DESCRIPTION = "The Django REST API that runs parameterized Athena queries."


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m athena_api",
        description=f"{DESCRIPTION} Not built yet: it lands with issue #7.",
    )
    parser.parse_args(argv)
    print("python -m athena_api: not built yet (issue #7)", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
