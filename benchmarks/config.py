"""What a benchmark run measures and where, read from AICOMMONS_BENCH_* environment variables."""

import os
from collections.abc import Mapping
from dataclasses import dataclass

P50_TARGET_MS = 20.0
P99_TARGET_MS = 100.0
DEMO_TARGET_S = 15.0


@dataclass(frozen=True)
class BenchConfig:
    """The sizes of the seeded commons, how many requests each kind gets, and the PostgreSQL to use."""

    communities: int = 10_000
    members: int = 100_000
    requests_per_kind: int = 320
    postgres_url: str = ""
    profile: bool = False
    demo: bool = True

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> "BenchConfig":
        postgres = environ.get("AICOMMONS_BENCH_POSTGRES_URL") or environ.get("AICOMMONS_TEST_POSTGRES_URL")
        return cls(
            communities=int(environ.get("AICOMMONS_BENCH_COMMUNITIES", cls.communities)),
            members=int(environ.get("AICOMMONS_BENCH_MEMBERS", cls.members)),
            requests_per_kind=int(environ.get("AICOMMONS_BENCH_REQUESTS", cls.requests_per_kind)),
            postgres_url=postgres or "",
            profile=environ.get("AICOMMONS_BENCH_PROFILE", "") == "1",
            demo=environ.get("AICOMMONS_BENCH_DEMO", "1") != "0",
        )
