"""Fixtures for the command-line tests."""

import pytest


@pytest.fixture
def env(settings, tmp_path) -> dict[str, str]:
    """The environment a command needs to reach this test's database and keep its files apart."""
    return {
        "AICOMMONS_DATABASE_URL": settings.resolved_database_url,
        "AICOMMONS_DATA_DIR": str(settings.data_dir),
        "AICOMMONS_CONFIG_DIR": str(tmp_path / "config"),
    }
