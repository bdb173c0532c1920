"""`python -m producers` (not built yet: issue #4)."""

import argparse
import sys

DESCRIPTION = "Threaded Kafka producers: a thread per topic, rate control, keys, delivery reports."


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m producers",
        description=f"{DESCRIPTION} Not built yet: it lands with issue #4.",
    )
    parser.parse_args(argv)
    print("python -m producers: not built yet (issue #4)", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
