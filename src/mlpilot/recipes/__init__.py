"""Cleaning recipes: declarative, versioned lists of steps applied to dataset versions."""
