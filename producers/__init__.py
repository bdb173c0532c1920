"""Threaded Kafka producers: a thread per topic, rate control, keys, delivery reports.

`produce` and `produce_simulated` are the stage's facade (producers/produce.py).
"""

from producers.produce import ProduceResult, produce, produce_simulated

__all__ = ["ProduceResult", "produce", "produce_simulated"]
