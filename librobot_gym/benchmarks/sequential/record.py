"""What a sequential run decided, kept in the results store next to its runs' episodes: one
row per A/B comparison (`bench ab`) or per interval-width run (`bench run --until-width`),
updated as the run goes, so `bench show`, a bundle and the board can say what was decided and
after how many episodes.

The table lives in its own metadata on the store's engine (created where missing, as the
store creates its own tables), so a database without sequential runs is unchanged.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, DateTime, String, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from librobot_gym.benchmarks.store import ResultsStore


class _Base(DeclarativeBase):
    pass


class Decision(_Base):
    """One sequential run: `kind` "ab" (runs a and b compared) or "width" (run a alone);
    `summary` is the JSON of `ab.ABResult.summary()` or `width.WidthResult.summary()`."""

    __tablename__ = "sequential_decisions"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))
    run_a: Mapped[str] = mapped_column(String(32), index=True)
    run_b: Mapped[str] = mapped_column(String(32), default="", index=True)
    summary: Mapped[dict] = mapped_column(JSON, default=dict)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


def _ready(store: ResultsStore) -> None:
    _Base.metadata.create_all(store.engine)


def save_decision(store: ResultsStore, key: str, kind: str, run_a: str, run_b: str,
                  summary: dict) -> None:
    """Insert or replace decision `key`."""
    _ready(store)
    with Session(store.engine) as session:
        row = session.get(Decision, key) or Decision(id=key)
        row.kind, row.run_a, row.run_b, row.summary = kind, run_a, run_b, summary
        row.updated_at = dt.datetime.now(dt.UTC)
        session.merge(row)
        session.commit()


def decisions_of(store: ResultsStore, run_id: str) -> list[dict]:
    """Every sequential decision run `run_id` took part in, as their summaries (with "id",
    "kind"), oldest first."""
    _ready(store)
    with Session(store.engine) as session:
        rows = session.scalars(select(Decision).where((Decision.run_a == run_id)
                                                      | (Decision.run_b == run_id))
                               .order_by(Decision.updated_at))
        return [{**row.summary, "id": row.id, "kind": row.kind} for row in rows]
