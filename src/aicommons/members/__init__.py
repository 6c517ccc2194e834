"""Members: accounts, profiles, global roles, browser logins and API tokens."""
