"""lakestream: the ground floor. Settings, the dataset catalog, client factories, the raw lake's
layout and errors (`core`), and the embedded stack (`stack`)."""

__version__ = "0.1.0"
