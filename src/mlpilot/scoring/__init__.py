"""Batch scoring: score a table, query or files with a model version and write predictions back, resumably."""
