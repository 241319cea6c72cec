"""Server-rendered web UI: Jinja2 templates, HTMX, and the helpers every domain view uses."""
