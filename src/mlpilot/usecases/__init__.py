"""The use-case catalog and the six-question feasibility screen per project."""
