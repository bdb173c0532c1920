"""Synthetic generators for the four datasets and seed-style file export."""
