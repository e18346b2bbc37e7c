"""Chat sessions and their turns, in SQLite under ``FVI_HOME/rag/sessions.sqlite3`` (one writer lock)."""

from __future__ import annotations

import json
import sqlite3
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

SCHEMA = """
create table if not exists chat_sessions (session_id text primary key, created_at text not null);
create table if not exists chat_turns (
    session_id text not null references chat_sessions(session_id), n integer not null, asked_at text not null,
    question text not null, answer text not null, backend text not null, citations text not null,
    dropped text not null, notes text not null, primary key (session_id, n));
"""


class SessionStore:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        with self._connect() as con:
            con.executescript(SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        con = sqlite3.connect(self.path, timeout=10)
        con.row_factory = sqlite3.Row
        return con

    def exists(self, session_id: str) -> bool:
        with self._connect() as con:
            return con.execute("select 1 from chat_sessions where session_id = ?", [session_id]).fetchone() is not None

    def add_turn(self, session_id: str, question: str, result: dict[str, Any]) -> int:
        now = datetime.now(UTC).isoformat(timespec="seconds")
        with self._lock, self._connect() as con:
            con.execute("insert or ignore into chat_sessions values (?, ?)", [session_id, now])
            (n,) = con.execute("select coalesce(max(n), 0) + 1 from chat_turns where session_id = ?",
                               [session_id]).fetchone()
            con.execute(
                "insert into chat_turns values (?,?,?,?,?,?,?,?,?)",
                [session_id, n, now, question, result.get("answer", ""), result.get("backend", ""),
                 json.dumps(result.get("citations", [])), json.dumps(result.get("dropped_sentences", [])),
                 json.dumps(result.get("notes", []))],
            )
            return int(n)

    def get(self, session_id: str) -> dict[str, Any] | None:
        with self._connect() as con:
            head = con.execute("select * from chat_sessions where session_id = ?", [session_id]).fetchone()
            if head is None:
                return None
            turns = con.execute("select * from chat_turns where session_id = ? order by n", [session_id]).fetchall()
        return {
            "session_id": session_id,
            "created_at": head["created_at"],
            "turns": [
                {"n": t["n"], "asked_at": t["asked_at"], "question": t["question"], "answer": t["answer"],
                 "backend": t["backend"], "citations": json.loads(t["citations"]),
                 "dropped_sentences": json.loads(t["dropped"]), "notes": json.loads(t["notes"])}
                for t in turns
            ],
        }
