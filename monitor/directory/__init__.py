"""The directory file: load (YAML, CSV, HTML import), validate, dump, review and apply."""
