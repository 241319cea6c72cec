"""Team and skills: roles and skill levels of project members, the roles each plan stage needs, the gap map,
training suggestions, staffing cost from a salary table, and building in house against a managed service."""
