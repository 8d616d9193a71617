"""The results store: runs, episodes and artifacts in SQL (SQLite file by default, PostgreSQL by
URL), written one episode per transaction so a killed run loses nothing it finished.

An episode is unique per (run, env, seed, variant): resuming a run can neither lose nor count an
episode twice.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
    create_engine,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from librobot_gym.errors import ConfigError

NAME_LIMIT = 128  # characters of a run's display name (the `runs.name` column)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    pass


class Run(Base):
    """One evaluation of one policy on one suite card (and backend)."""

    __tablename__ = "runs"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    suite: Mapped[str] = mapped_column(String(64))
    card_hash: Mapped[str] = mapped_column(String(64))
    card_path: Mapped[str] = mapped_column(String(512))
    policy: Mapped[str] = mapped_column(String(256))
    # How boards show the run (`bench run --name`); "" = derived from the policy spec. Added
    # after the first release: `_migrate` gives older databases the column.
    name: Mapped[str] = mapped_column(String(NAME_LIMIT), default="", server_default="")
    backend: Mapped[str] = mapped_column(String(16))
    seed_offset: Mapped[int] = mapped_column(Integer, default=0)
    git_revision: Mapped[str] = mapped_column(String(64), default="")
    versions: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)


class Episode(Base):
    """One seeded episode's record (DESIGN.md section 8)."""

    __tablename__ = "episodes"
    __table_args__ = (UniqueConstraint("run_id", "env_id", "seed", "variant"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id"), index=True)
    suite: Mapped[str] = mapped_column(String(64))
    env_id: Mapped[str] = mapped_column(String(128))
    variant: Mapped[str] = mapped_column(String(64), default="default")
    seed: Mapped[int] = mapped_column(Integer)
    policy: Mapped[str] = mapped_column(String(256))
    backend: Mapped[str] = mapped_column(String(16))
    obs_mode: Mapped[str] = mapped_column(String(16))
    instruction: Mapped[str] = mapped_column(String(256), default="")
    success: Mapped[bool] = mapped_column(Boolean)
    success_once: Mapped[bool] = mapped_column(Boolean)
    episode_return: Mapped[float] = mapped_column(Float)
    length: Mapped[int] = mapped_column(Integer)
    time_to_success: Mapped[int | None] = mapped_column(Integer, nullable=True)
    sim_unstable: Mapped[bool] = mapped_column(Boolean, default=False)
    aborted: Mapped[bool] = mapped_column(Boolean, default=False)
    abort_reason: Mapped[str] = mapped_column(String(512), default="")
    safety_events: Mapped[dict] = mapped_column(JSON, default=dict)
    task_metrics: Mapped[dict] = mapped_column(JSON, default=dict)
    video_path: Mapped[str | None] = mapped_column(String(512), nullable=True)
    wall_time_s: Mapped[float] = mapped_column(Float, default=0.0)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)


class Artifact(Base):
    """A file a run produced (video, trained model, export)."""

    __tablename__ = "artifacts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    path: Mapped[str] = mapped_column(String(512))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)


EPISODE_FIELDS = [c.name for c in Episode.__table__.columns if c.name not in ("id",)]


def check_run_name(name: str) -> str:
    """`name` stripped, or a one-line ConfigError if it is empty or too long for a board."""
    stripped = " ".join(str(name).split())
    if not stripped or len(stripped) > NAME_LIMIT:
        raise ConfigError(f"run name {name!r} has {len(stripped)} characters; give a name of 1 "
                          f"to {NAME_LIMIT} characters (--name)")
    return stripped


def default_url(directory: str | Path = "outputs") -> str:
    path = Path(directory) / "results.db"
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}"


# Columns added to existing tables since the first release, with their SQL type and default:
# a database written by an older version gets them when a store opens it (create_all only
# creates missing tables).
_ADDED_COLUMNS = {"runs": {"name": "VARCHAR(128) NOT NULL DEFAULT ''"}}


def _migrate(engine: Engine) -> None:
    """Add the columns of `_ADDED_COLUMNS` that an existing database lacks (another process
    opening the same database may add one first: that is fine)."""
    for table, columns in _ADDED_COLUMNS.items():
        for column, ddl in columns.items():
            if column in {c["name"] for c in inspect(engine).get_columns(table)}:
                continue
            try:
                with engine.begin() as connection:
                    connection.execute(text(f"ALTER TABLE {table} ADD COLUMN {column} {ddl}"))
            except DBAPIError:
                if column not in {c["name"] for c in inspect(engine).get_columns(table)}:
                    raise


class ResultsStore:
    """Thin typed access to the results database."""

    def __init__(self, url: str):
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url[len("postgresql://"):]
        self.url = url
        self.engine: Engine = create_engine(url)
        Base.metadata.create_all(self.engine)
        _migrate(self.engine)

    def ensure_run(self, run: Run) -> Run:
        """Insert the run if it is new; return the stored one (a resumed run keeps its record)."""
        with Session(self.engine) as session:
            stored = session.get(Run, run.id)
            if stored is None:
                session.add(run)
                session.commit()
                stored = session.get(Run, run.id)
            session.expunge(stored)
            return stored

    def done(self, run_id: str) -> set[tuple[str, int, str]]:
        """(env, seed, variant) of every episode a run has finished; aborted ones (hardware
        faults) are not finished: a rerun plays them again and replaces their record."""
        with Session(self.engine) as session:
            rows = session.execute(select(Episode.env_id, Episode.seed, Episode.variant)
                                   .where(Episode.run_id == run_id, ~Episode.aborted))
            return {(env, seed, variant) for env, seed, variant in rows}

    def add_episode(self, record: dict) -> bool:
        """Record one episode in its own transaction (replacing an aborted attempt at the same
        episode); False if it was already finished."""
        with Session(self.engine) as session:
            key = {"run_id": record["run_id"], "env_id": record["env_id"],
                   "seed": record["seed"], "variant": record.get("variant", "default")}
            stale = session.scalars(select(Episode).filter_by(**key, aborted=True)).first()
            if stale is not None:
                session.delete(stale)
                session.flush()
            session.add(Episode(**{k: v for k, v in record.items() if k in EPISODE_FIELDS}))
            try:
                session.commit()
            except IntegrityError:
                session.rollback()
                return False
        return True

    def set_run_name(self, run_id: str, name: str) -> None:
        """Give run `run_id` the name boards show for it (its identity stays the policy spec)."""
        name = check_run_name(name)
        with Session(self.engine) as session:
            session.execute(update(Run).where(Run.id == run_id).values(name=name))
            session.commit()

    def add_artifact(self, run_id: str, kind: str, path: str) -> None:
        with Session(self.engine) as session:
            session.add(Artifact(run_id=run_id, kind=kind, path=path))
            session.commit()

    def artifacts(self, run_id: str) -> list[tuple[str, str]]:
        """(kind, path) of every file run `run_id` produced, in the order they were added."""
        with Session(self.engine) as session:
            rows = session.execute(select(Artifact.kind, Artifact.path)
                                   .where(Artifact.run_id == run_id).order_by(Artifact.id))
            return [(kind, path) for kind, path in rows]

    def runs(self) -> list[Run]:
        with Session(self.engine) as session:
            found = list(session.scalars(select(Run).order_by(Run.created_at)))
            for run in found:
                session.expunge(run)
            return found

    def get_run(self, run_id: str) -> Run | None:
        with Session(self.engine) as session:
            run = session.get(Run, run_id)
            if run is not None:
                session.expunge(run)
            return run

    def episodes_frame(self, run_id: str | None = None):
        """Episodes as a pandas DataFrame (all runs, or one)."""
        import pandas as pd

        query = select(Episode)
        if run_id is not None:
            query = query.where(Episode.run_id == run_id)
        with Session(self.engine) as session:
            rows = [{f: getattr(e, f) for f in EPISODE_FIELDS} for e in session.scalars(query)]
        return pd.DataFrame(rows, columns=EPISODE_FIELDS)

    def export_parquet(self, path: str | Path, run_id: str | None = None) -> Path:
        frame = self.episodes_frame(run_id)
        for column in ("safety_events", "task_metrics"):  # nested dicts -> JSON text
            frame[column] = frame[column].map(json.dumps)
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        frame.to_parquet(path, index=False)
        return path
