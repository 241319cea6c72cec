"""Risks and issues of a project: the register, its history, and risks raised from ML evidence."""
