"""Threaded Kafka producers: a thread per topic, rate control, keys, delivery reports."""
