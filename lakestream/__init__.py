"""lakestream: settings, dataset catalog, client factories, the embedded stack and the CLI."""

__version__ = "0.1.0"
