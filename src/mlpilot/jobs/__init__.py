"""API over the core job records: state, progress and logs of long work."""
