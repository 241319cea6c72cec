"""Blueprints (reference architectures): publish, browse, instantiate, export and import."""
