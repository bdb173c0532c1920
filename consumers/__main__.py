"""`python -m consumers` (not built yet: issue #5)."""

import argparse
import sys

DESCRIPTION = "Threaded S3 sink: batches, partitioned keys, commit after upload, dead letters."


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m consumers",
        description=f"{DESCRIPTION} Not built yet: it lands with issue #5.",
    )
    parser.parse_args(argv)
    print("python -m consumers: not built yet (issue #5)", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
