"""Users, roles, UI logins and API tokens."""
