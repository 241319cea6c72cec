"""The built-in AutoML engine: typed preprocessing, model families, Optuna search, ensemble selection, refit."""
