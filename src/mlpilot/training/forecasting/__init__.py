"""Time-series forecasting: panel preparation, vectorised candidates, rolling-origin backtests, ensembles."""
