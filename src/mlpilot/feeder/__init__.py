"""Training-data feeder: scheduled pipelines from a connection through a recipe into a dataset, with triggers."""
