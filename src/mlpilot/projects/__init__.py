"""AI projects: client, use case, lifecycle stage and members."""
