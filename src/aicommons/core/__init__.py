"""Shared foundations: settings, database, errors, security, jobs, pagination."""
