from lakestream.core.signals import run_holding_stops

# A stop that comes while the command imports its libraries is kept for its handler.
run_holding_stops("consumers")
