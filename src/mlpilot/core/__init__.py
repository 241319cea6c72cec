"""Cross-cutting infrastructure every domain builds on: database, errors, storage, jobs, plugins."""
