"""Value trees: a project's business goal, its drivers and measurable KPIs, their actuals, ROI and payback."""
