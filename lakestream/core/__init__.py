"""The core every stage builds on: settings, the dataset catalog, column types, record rules,
storage formats, the raw lake's layout, client factories and errors. It imports no stage (see
docs/architecture.md)."""
