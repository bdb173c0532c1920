"""Threaded Kafka producers: a thread per topic, rate control, keys, delivery reports.

`produce` and `produce_simulated` are the stage's facade (producers/produce.py). Unlike the
sink's, it is imported eagerly: `produce` is also the name of its module, and a lazy attribute
would lose to the submodule once anything imports `producers.produce`. So `python -m producers`
holds a stop signal only from its __main__ on, about a second after it starts.
"""

from producers.produce import ProduceResult, produce, produce_simulated

__all__ = ["ProduceResult", "produce", "produce_simulated"]
