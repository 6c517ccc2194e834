"""The transparency log and token ledger benchmarks, on SQLite and (when configured) PostgreSQL.

For each database, in turn: log appends (`ledger_appends`), token transfers on hot accounts
(`ledger_tokens`), then a large log for inclusion proofs and `aicommons ledger verify` (`ledger_proofs`).
Each gets a fresh database; see benchmarks/README.md for the figures and their targets.
"""

from dataclasses import dataclass, field

from rich.console import Console

from benchmarks.config import BenchConfig
from benchmarks.ledger_appends import AppendRun, appends_table, bench_appends
from benchmarks.ledger_proofs import (
    ProofResults,
    bench_proofs,
    build_table,
    failures,
    proofs_table,
    verify_table,
)
from benchmarks.ledger_tokens import TransferRun, bench_transfers, transfers_table


@dataclass
class LedgerResults:
    """Every ledger figure of a run."""

    appends: list[AppendRun] = field(default_factory=list)
    transfers: list[TransferRun] = field(default_factory=list)
    proofs: list[ProofResults] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        verdicts = [row.passed for row in self.appends] + [row.passed for row in self.transfers]
        return all(verdicts) and all(result.passed for result in self.proofs)

    def print(self, console: Console) -> None:
        if self.appends:
            console.print(appends_table(self.appends))
        if self.transfers:
            console.print(transfers_table(self.transfers))
            for row in self.transfers:
                if row.failures:
                    console.print(
                        f"[yellow]{row.database}: first failed transfer:[/yellow] {row.first_failure}"
                    )
        if self.proofs:
            console.print(build_table([result.built for result in self.proofs]))
            console.print(proofs_table([row for result in self.proofs for row in result.proofs]))
            verified = [result.verify for result in self.proofs if result.verify is not None]
            if verified:
                console.print(verify_table(verified))
                for line in failures(verified):
                    console.print(f"[red]verify failed[/red] {line}")


def run(config: BenchConfig, console: Console) -> LedgerResults:
    """Every ledger benchmark on every configured database."""
    results = LedgerResults()
    for kind in ("sqlite", "postgresql") if config.postgres_url else ("sqlite",):
        console.rule(f"{kind}: transparency log and token ledger")
        results.appends += bench_appends(kind, config.postgres_url, config.ledger, console)
        results.transfers.append(bench_transfers(kind, config.postgres_url, config.ledger, console))
        results.proofs.append(bench_proofs(kind, config.postgres_url, config.ledger, console))
    return results
