"""Settings of a commons, read from AICOMMONS_* environment variables with working defaults."""

from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every setting of a commons. Build one in the app factory or a command, never at import."""

    model_config = SettingsConfigDict(env_prefix="AICOMMONS_", extra="ignore")

    data_dir: Path = Field(default=Path(".aicommons"), description="where the database, blobs and keys live")
    database_url: str = Field(default="", description="SQLAlchemy URL; empty means SQLite in data_dir")
    name: str = Field(default="AI Commons", description="the commons' name, shown on every page")
    log_origin: str = Field(default="aicommons.local/log", description="the transparency log's origin line")
    host: str = Field(default="127.0.0.1", description="address `aicommons serve` listens on")
    port: int = Field(default=8000, ge=1, le=65535, description="port `aicommons serve` listens on")
    workers: int = Field(default=1, ge=1, le=64, description="web server processes")
    run_worker: bool = Field(default=True, description="run a job worker inside the web server")
    job_heartbeat_seconds: float = Field(default=5.0, gt=0, description="how often a running job beats")
    job_timeout_seconds: float = Field(default=60.0, gt=0, description="a job silent this long fails")
    session_days: int = Field(default=14, ge=1, le=365, description="how long a browser login lasts")
    max_upload_bytes: int = Field(
        default=2 * 1024**3, ge=1024, description="the largest dataset file a member may upload (bytes)"
    )
    secure_cookies: bool = Field(default=False, description="mark cookies Secure (set behind HTTPS)")
    witnesses: list[str] = Field(
        default=[],
        description='witnesses asked to cosign checkpoints: a JSON list of "URL VKEY" strings, e.g. '
        '["https://witness.example/w1 witness.example/w1+1234abcd+BK..."]',
    )

    superlink: str = Field(
        default="",
        description="the Flower SuperLink (host:port) of runs on deployed nodes; empty: simulated nodes only",
    )
    superlink_certificates: Path | None = Field(
        default=None, description="the CA certificate of a SuperLink with TLS (PEM); none: insecure"
    )

    @field_validator("database_url")
    @classmethod
    def _known_driver(cls, url: str) -> str:
        if url.startswith("postgresql://"):
            return "postgresql+psycopg://" + url.removeprefix("postgresql://")
        return url

    @field_validator("witnesses")
    @classmethod
    def _url_and_key(cls, witnesses: list[str]) -> list[str]:
        for witness in witnesses:
            url, _, vkey = witness.strip().partition(" ")
            if not url.startswith(("http://", "https://")) or not vkey.strip():
                raise ValueError(f"{witness!r} is not 'URL VKEY'")
        return witnesses

    @property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to the embedded SQLite file in the data directory."""
        return self.database_url or f"sqlite:///{self.data_dir / 'aicommons.db'}"

    @property
    def blob_dir(self) -> Path:
        """Where uploaded datasets are kept, as Parquet files named by their SHA-256."""
        return self.data_dir / "blobs"

    @property
    def signing_key_path(self) -> Path:
        return self.data_dir / "signing.key"
