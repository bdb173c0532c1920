import sys

from lakestream.core.signals import hold_stop_signals, stop_holding

hold_stop_signals()  # first: a stop while the imports below run is kept for the command's handler
try:
    from consumers.cli import main
except KeyboardInterrupt:  # the same stop signal twice while the sink imported its libraries
    sys.stderr.write("consumers: interrupted\n")
    sys.exit(130)

code = main()
stop_holding()  # it has returned: a stop while the process exits acts as usual
sys.exit(code)
