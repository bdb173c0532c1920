import sys

from lakestream.cli import main

sys.exit(main())
