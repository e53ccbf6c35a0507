"""The processes sending to each Sticky workspace now (connector/sync/budget.py): each
registers while it sends, renews every second, and paces at the cap divided by the number
of live registrations. Expiry by the database's clock (state/leases.py ``db_now``)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from sqlalchemy import Engine, and_, delete, func, select, text, update

from state._sql import insert_ignore
from state.leases import db_now
from state.liveness import lock_key
from state.schema import senders

FORGET_AFTER = timedelta(minutes=1)
"""Rows expired this long ago are deleted (a process that died without leaving)."""


class Senders:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def beat(self, sender: str, workspaces: Iterable[str], ttl: float
             ) -> dict[str, tuple[int, bool]]:
        """Register (or renew) ``sender`` on each workspace until ``ttl`` seconds from
        now: per workspace, the live senders (this one included) and whether this one
        was live already (``False``: it joins now, and must give the others a beat to
        make room before sending)."""
        found: dict[str, tuple[int, bool]] = {}
        with self._engine.begin() as conn:
            now = db_now(conn)
            expires = now + timedelta(seconds=ttl)
            conn.execute(delete(senders).where(senders.c.expires_at < now - FORGET_AFTER))
            for workspace in sorted(set(workspaces)):
                if conn.dialect.name == "postgresql":
                    # two processes joining at once must see each other: one at a time
                    # (SQLite's BEGIN IMMEDIATE serialises already)
                    conn.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                                 {"key": lock_key("senders", workspace, 0)})
                mine = and_(senders.c.workspace == workspace, senders.c.sender == sender)
                was = conn.execute(select(senders.c.expires_at).where(mine)).scalar()
                live = was is not None and was > now
                if was is None:
                    insert_ignore(conn, senders, [{"workspace": workspace, "sender": sender,
                                                   "joined_at": now, "expires_at": expires}])
                else:
                    conn.execute(update(senders).where(mine).values(
                        expires_at=expires, **({} if live else {"joined_at": now})))
                count = conn.execute(select(func.count()).select_from(senders).where(
                    senders.c.workspace == workspace, senders.c.expires_at > now)).scalar_one()
                found[workspace] = (int(count), live)
        return found

    def leave(self, sender: str, workspaces: Iterable[str]) -> None:
        wanted = list(workspaces)
        if not wanted:
            return
        with self._engine.begin() as conn:
            conn.execute(delete(senders).where(senders.c.sender == sender,
                                               senders.c.workspace.in_(wanted)))

    def live(self) -> dict[str, list[str]]:
        """Workspace → the senders registered on it now (``status``)."""
        with self._engine.connect() as conn:
            now = db_now(conn)
            rows = conn.execute(select(senders.c.workspace, senders.c.sender).where(
                senders.c.expires_at > now).order_by(senders.c.workspace,
                                                     senders.c.joined_at)).all()
        found: dict[str, list[str]] = {}
        for workspace, sender in rows:
            found.setdefault(workspace, []).append(sender)
        return found
