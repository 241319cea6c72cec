"""Labeling projects bound to dataset versions: tasks, work distribution, review, agreement and exports."""
