"""lakestream: the shared package — settings, dataset catalog, client factories, embedded stack, CLI."""

__version__ = "0.1.0"
