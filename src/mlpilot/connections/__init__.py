"""Connections: saved, secret-holding sources (databases, files, object stores) that datasets are ingested from,
with their sync jobs and watermarks. The readers themselves are `datasets.connectors`."""
