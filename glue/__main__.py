"""`python -m glue` (not built yet: issue #6)."""

import argparse
import sys

DESCRIPTION = "Crawler control and the local crawler that registers the lake's tables; saved SQL."


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m glue",
        description=f"{DESCRIPTION} Not built yet: it lands with issue #6.",
    )
    parser.parse_args(argv)
    print("python -m glue: not built yet (issue #6)", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
