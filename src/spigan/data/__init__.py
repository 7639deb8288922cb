"""Datasets, class ontologies and file I/O."""
