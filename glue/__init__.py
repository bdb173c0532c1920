"""Crawler control and the local crawler that registers the lake's tables; local Athena SQL."""
