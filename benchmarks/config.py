"""What a benchmark run measures and where, read from AICOMMONS_BENCH_* environment variables."""

import os
from collections.abc import Mapping
from dataclasses import dataclass

P50_TARGET_MS = 20.0
P99_TARGET_MS = 100.0
DEMO_TARGET_S = 15.0
APPENDS_TARGET_PER_S = {"sqlite": 2_000.0, "postgresql": 1_000.0}
PROOF_TARGET_MS = 5.0
PROOF_MAX_HASHES = 20
VERIFY_TARGET_S = 60.0
VERIFY_TIMEOUT_S = 90.0  # a verify still running then has missed its target: stop it
PROOF_BUDGET_S = 10.0  # each way of asking for proofs stops after this long, even short of its count
TRANSFERS_TARGET_PER_S = {"postgresql": 1_000.0}
INGEST_TARGET_S = 60.0
INGEST_MEMORY_TARGET_BYTES = 1 << 30
STATS_TARGET_S = 30.0
SCORING_TARGET_S = 5.0
FED_IID_GAP_POINTS = 2.0  # federated test accuracy below central training, at most, in points: IID nodes
FED_NON_IID_GAP_POINTS = 5.0  # … and label-skewed (Dirichlet 0.5) nodes
FED_OVERHEAD_TARGET = 1.20  # a run through the platform against bare Flower, wall time, at most


@dataclass(frozen=True)
class LedgerConfig:
    """The sizes of the transparency log and token ledger benchmarks (AICOMMONS_BENCH_* variables)."""

    enabled: bool = True
    appends: int = 8_000
    single_appends: int = 2_000
    sqlite_writers: int = 4
    postgres_writers: int = 8
    log_size: int = 1_000_000
    postgres_log_size: int = 1_000_000
    proofs: int = 500
    verify: bool = True
    transfers: int = 4_000
    transfer_writers: int = 8
    hot_accounts: int = 10

    def writers_on(self, database: str) -> int:
        return self.postgres_writers if database == "postgresql" else self.sqlite_writers

    def log_size_on(self, database: str) -> int:
        return self.postgres_log_size if database == "postgresql" else self.log_size

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> "LedgerConfig":
        def number(name: str, default: int) -> int:
            return int(environ.get(f"AICOMMONS_BENCH_{name}", default))

        log_size = number("LOG_SIZE", cls.log_size)
        return cls(
            enabled=environ.get("AICOMMONS_BENCH_LEDGER", "1") != "0",
            appends=number("APPENDS", cls.appends),
            single_appends=number("SINGLE_APPENDS", cls.single_appends),
            sqlite_writers=number("SQLITE_WRITERS", cls.sqlite_writers),
            postgres_writers=number("POSTGRES_WRITERS", cls.postgres_writers),
            log_size=log_size,
            postgres_log_size=number("POSTGRES_LOG_SIZE", log_size),
            proofs=number("PROOFS", cls.proofs),
            verify=environ.get("AICOMMONS_BENCH_VERIFY", "1") != "0",
            transfers=number("TRANSFERS", cls.transfers),
            transfer_writers=number("TRANSFER_WRITERS", cls.transfer_writers),
            hot_accounts=number("HOT_ACCOUNTS", cls.hot_accounts),
        )


@dataclass(frozen=True)
class DatasetsConfig:
    """The sizes of the datasets benchmarks: the CSV uploaded, the version summarised, the catalog."""

    enabled: bool = True
    csv_bytes: int = 1_000_000_000
    stats_rows: int = 10_000_000
    count: int = 10_000
    requests_per_kind: int = 320

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> "DatasetsConfig":
        def number(name: str, default: int) -> int:
            return int(environ.get(f"AICOMMONS_BENCH_{name}", default))

        return cls(
            enabled=environ.get("AICOMMONS_BENCH_DATASETS", "1") != "0",
            csv_bytes=number("CSV_BYTES", cls.csv_bytes),
            stats_rows=number("STATS_ROWS", cls.stats_rows),
            count=number("DATASETS_COUNT", cls.count),
            requests_per_kind=number("DATASETS_REQUESTS", cls.requests_per_kind),
        )


@dataclass(frozen=True)
class ProblemsConfig:
    """The size of the scoring benchmark: the submission's rows and the bootstrap's resamples."""

    enabled: bool = True
    rows: int = 1_000_000
    resamples: int = 1_000
    submissions: int = 10_000  # the leaderboard benchmark's scored submissions …
    teams: int = 2_000  # … from this many teams
    board_requests: int = 300  # timed requests of each board

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> "ProblemsConfig":
        return cls(
            enabled=environ.get("AICOMMONS_BENCH_PROBLEMS", "1") != "0",
            rows=int(environ.get("AICOMMONS_BENCH_SCORING_ROWS", cls.rows)),
            resamples=int(environ.get("AICOMMONS_BENCH_RESAMPLES", cls.resamples)),
            submissions=int(environ.get("AICOMMONS_BENCH_BOARD_SUBMISSIONS", cls.submissions)),
            teams=int(environ.get("AICOMMONS_BENCH_BOARD_TEAMS", cls.teams)),
            board_requests=int(environ.get("AICOMMONS_BENCH_BOARD_REQUESTS", cls.board_requests)),
        )


@dataclass(frozen=True)
class FederationConfig:
    """The sizes of the federated learning benchmarks (AICOMMONS_BENCH_FED_* variables)."""

    enabled: bool = True
    nodes: int = 5  # nodes of the quality and overhead runs
    rounds: int = 20
    epochs: int = 1  # local epochs per round
    learning_rate: float = 0.1
    overhead_repeats: int = 3  # runs of each way (bare Flower, the platform); the median is compared
    scale_nodes: int = 50
    scale_rounds: int = 10

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> "FederationConfig":
        def number(name: str, default: int) -> int:
            return int(environ.get(f"AICOMMONS_BENCH_FED_{name}", default))

        return cls(
            enabled=environ.get("AICOMMONS_BENCH_FEDERATION", "1") != "0",
            nodes=number("NODES", cls.nodes),
            rounds=number("ROUNDS", cls.rounds),
            epochs=number("EPOCHS", cls.epochs),
            learning_rate=float(environ.get("AICOMMONS_BENCH_FED_LEARNING_RATE", cls.learning_rate)),
            overhead_repeats=number("OVERHEAD_REPEATS", cls.overhead_repeats),
            scale_nodes=number("SCALE_NODES", cls.scale_nodes),
            scale_rounds=number("SCALE_ROUNDS", cls.scale_rounds),
        )


@dataclass(frozen=True)
class BenchConfig:
    """The sizes of the seeded commons, how many requests each kind gets, and the PostgreSQL to use."""

    communities: int = 10_000
    members: int = 100_000
    requests_per_kind: int = 320
    postgres_url: str = ""
    profile: bool = False
    demo: bool = True
    search: bool = True
    ledger: LedgerConfig = LedgerConfig()
    datasets: DatasetsConfig = DatasetsConfig()
    problems: ProblemsConfig = ProblemsConfig()
    federation: FederationConfig = FederationConfig()

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
            search=environ.get("AICOMMONS_BENCH_SEARCH", "1") != "0",
            ledger=LedgerConfig.from_env(environ),
            datasets=DatasetsConfig.from_env(environ),
            problems=ProblemsConfig.from_env(environ),
            federation=FederationConfig.from_env(environ),
        )
