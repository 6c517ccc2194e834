"""Full-text search of insights: an FTS5 table kept by triggers on SQLite, a generated, GIN-indexed
tsvector column on PostgreSQL (docs/decisions/0022-insight-full-text-search.md).

Neither is a model: `index` attaches their DDL to the insight table, so that `create_all` makes them
like the migration does, and migrations/env.py leaves them out of `alembic check`."""

import re
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import (
    CTE,
    DDL,
    ColumnElement,
    FromClause,
    Select,
    Subquery,
    column,
    event,
    func,
    literal_column,
    select,
    table,
)
from sqlalchemy.orm import InstrumentedAttribute, Session

FTS_TABLE = "insight_fts"
SEARCH_COLUMN = "search_vector"
SEARCH_INDEX = "ix_insight_search"
MAX_WORDS = 12
RANKED = 1_000  # searches matching more insights than this come newest first, unranked
T = TypeVar("T")
TITLE_WEIGHT = 10.0  # a word in the title counts ten times a word in the body (SQLite's bm25 weights)

_FORGET = (  # an external-content FTS5 table forgets a row when told its old values
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, title, body) "
    "VALUES ('delete', old.id, old.title, old.body);"
)
SQLITE = (
    f"CREATE VIRTUAL TABLE {FTS_TABLE} USING fts5(title, body, content='insight', content_rowid='id', "
    "tokenize='porter unicode61 remove_diacritics 2')",
    f"CREATE TRIGGER {FTS_TABLE}_insert AFTER INSERT ON insight BEGIN "
    f"INSERT INTO {FTS_TABLE}(rowid, title, body) VALUES (new.id, new.title, new.body); END",
    f"CREATE TRIGGER {FTS_TABLE}_delete AFTER DELETE ON insight BEGIN {_FORGET} END",
    f"CREATE TRIGGER {FTS_TABLE}_update AFTER UPDATE OF title, body ON insight BEGIN "
    f"{_FORGET} INSERT INTO {FTS_TABLE}(rowid, title, body) VALUES (new.id, new.title, new.body); END",
)
POSTGRESQL = (
    f"ALTER TABLE insight ADD COLUMN {SEARCH_COLUMN} tsvector GENERATED ALWAYS AS "
    "(setweight(to_tsvector('english', title), 'A') || setweight(to_tsvector('english', body), 'B')) STORED",
    f"CREATE INDEX {SEARCH_INDEX} ON insight USING gin ({SEARCH_COLUMN})",
)


def index(insight: FromClause) -> None:
    """Have `create_all` build the search index of the dialect with the insight table."""
    for statement in SQLITE:
        event.listen(insight, "after_create", _ddl(statement, "sqlite"))
    for statement in POSTGRESQL:
        event.listen(insight, "after_create", _ddl(statement, "postgresql"))
    event.listen(insight, "before_drop", _ddl(f"DROP TABLE IF EXISTS {FTS_TABLE}", "sqlite"))


def _ddl(statement: str, dialect: str) -> DDL:
    return DDL(statement).execute_if(dialect=dialect)  # type: ignore[no-untyped-call]


def words(text: str) -> list[str]:
    """The words of a search box, lowercased: punctuation and search syntax are never passed on."""
    return re.findall(r"\w+", text.lower())[:MAX_WORDS]


@dataclass(frozen=True)
class Search(Generic[T]):
    """A query narrowed to the insights holding every searched word. A `broad` search matched more than
    RANKED insights: its words are too common to rank by, so the most recently posted come first."""

    query: Select[T]
    broad: bool


def narrowed(
    session: Session, query: Select[T], ids: InstrumentedAttribute[int], text: str
) -> Search[T] | None:
    """`query` kept to the rows whose `ids` hold every word of `text`, best match first (decision 0022);
    None when `text` has no words."""
    found = words(text)
    if not found:
        return None
    dialect = session.get_bind().dialect.name
    if _broad(session, dialect, found):
        plain = _hits(dialect, found, scored=False).subquery("hits")
        return Search(query.join(plain, plain.c.id == ids).order_by(plain.c.id.desc()), broad=True)
    scored = _ranked(dialect, found)
    return Search(
        query.join(scored, scored.c.id == ids).order_by(scored.c.score, scored.c.id.desc()), broad=False
    )


def _ranked(dialect: str, found: list[str]) -> Subquery | CTE:
    hits = _hits(dialect, found, scored=True)
    if dialect == "postgresql":
        # Ranked once, first: at most RANKED rows. Left to itself, the planner ranked every insight in
        # parallel scans to join them in rank order.
        return hits.cte("hits").prefix_with("MATERIALIZED")
    return hits.subquery("hits")


def _broad(session: Session, dialect: str, found: list[str]) -> bool:
    sample = _hits(dialect, found, scored=False).limit(RANKED + 1).subquery()
    return (session.scalar(select(func.count()).select_from(sample)) or 0) > RANKED


def _hits(dialect: str, found: list[str], *, scored: bool) -> Select[Any]:
    """The ids holding every word, with a `score` (lower is better, titles weigh more) when `scored`."""
    if dialect == "sqlite":
        fts = table(FTS_TABLE, column("rowid"))
        phrase = " ".join(f'"{word}"' for word in found)  # each word quoted: a term, never an operator
        score: ColumnElement[float] = literal_column(f"bm25({FTS_TABLE}, {TITLE_WEIGHT}, 1.0)")
        columns = [fts.c.rowid.label("id"), *([score.label("score")] if scored else [])]
        return select(*columns).where(literal_column(FTS_TABLE).op("MATCH")(phrase))
    insight = table("insight", column("id"), column(SEARCH_COLUMN))
    vector = insight.c[SEARCH_COLUMN]
    terms = func.plainto_tsquery(literal_column("'english'::regconfig"), " ".join(found))
    columns = [insight.c.id.label("id"), *([(-func.ts_rank(vector, terms)).label("score")] if scored else [])]
    return select(*columns).where(vector.op("@@")(terms))
