"""`python -m simulator` (not built yet: issue #3)."""

import argparse
import sys

DESCRIPTION = "Synthetic generators for the four datasets and seed-style file export."


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m simulator",
        description=f"{DESCRIPTION} Not built yet: it lands with issue #3.",
    )
    parser.parse_args(argv)
    print("python -m simulator: not built yet (issue #3)", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
