"""Synthetic generators for the four datasets: fast, seeded, referentially consistent."""

from simulator.simulation import MessageBatch, SimulationConfig, Simulator

__all__ = ["MessageBatch", "SimulationConfig", "Simulator"]
