"""A store of model generations, so that a run can stop anywhere and go on where it stopped.

    cache = GenerationCache("out/generations.sqlite")
    key = cache.key(model="llama-3-8b", style="tora", settings={"temperature": 0},
                    item_id=item.id, question=item.question)
    if (text := cache.get(key)) is None:
        text = backend.generate(...)
        cache.put(key, item_id, text)      # on disk at once

A transcript that runs programs (``--prompt tora``, ``pal``) is also stored round by round
while it grows (``put_round``): the text so far and the program it waits to run, so a killed
run asks the model again for nothing it had answered; ``put`` of the whole transcript removes
it. Rounds are never read as answers.

Each generation is keyed by a SHA-256 of the model, the prompt style, the sampling settings
and the item's id and question, so changing any of them asks the model again, and re-running
a report costs no model call. Every ``put`` is committed before it returns (SQLite in WAL
mode, safe against a kill at any point): an interrupted run loses at most the generations in
flight, and none is stored twice.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from pathlib import Path
from typing import Iterable

from mathgen.errors import MathgenError


class GenerationCache:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = sqlite3.connect(str(self.path), check_same_thread=False, timeout=30)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("CREATE TABLE IF NOT EXISTS generations (key TEXT PRIMARY KEY, "
                             "item TEXT NOT NULL, output TEXT NOT NULL, meta TEXT, created REAL)")
            self._db.execute("CREATE TABLE IF NOT EXISTS rounds (key TEXT PRIMARY KEY, "
                             "item TEXT NOT NULL, text TEXT NOT NULL, rounds INTEGER NOT NULL, "
                             "pending TEXT, created REAL)")
            self._db.commit()
        except sqlite3.DatabaseError as err:
            raise MathgenError(f"{self.path}: not a generation cache ({err}); remove it or "
                               "choose another --out folder") from None
        self._lock = threading.Lock()

    @staticmethod
    def key(*, model: str, style: str, settings: dict, item_id: str, question: str,
            sample: int = 0) -> str:
        """The key of one generation: any change of model, prompt, settings or item misses.
        Sample n > 0 of an item (``--n``) has its own key; sample 0 is the single one."""
        fields = {"model": model, "style": style, "settings": settings, "item": item_id,
                  "question": question}
        if sample:
            fields["sample"] = sample
        blob = json.dumps(fields, sort_keys=True,
                          ensure_ascii=False, default=str)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()

    def get(self, key: str) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT output FROM generations WHERE key = ?",
                                   (key,)).fetchone()
        return row[0] if row else None

    def get_many(self, keys: Iterable[str]) -> dict[str, str]:
        keys = list(dict.fromkeys(keys))
        out: dict[str, str] = {}
        with self._lock:
            for i in range(0, len(keys), 500):
                chunk = keys[i:i + 500]
                marks = ",".join("?" * len(chunk))
                out.update(self._db.execute(
                    f"SELECT key, output FROM generations WHERE key IN ({marks})", chunk))
        return out

    def put(self, key: str, item_id: str, output: str, meta: dict | None = None) -> None:
        """Store one generation and commit it; a second put of the same key keeps the first.
        Its unfinished rounds go in the same transaction."""
        with self._lock:
            self._db.execute("INSERT OR IGNORE INTO generations VALUES (?, ?, ?, ?, ?)",
                             (key, item_id, output, json.dumps(meta or {}), time.time()))
            self._db.execute("DELETE FROM rounds WHERE key = ?", (key,))
            self._db.commit()

    def put_round(self, key: str, item_id: str, text: str, rounds: int,
                  pending: str | None) -> None:
        """Store an unfinished transcript: its text, the programs run so far and the program
        it waits to run (None once its output is in the text); committed before it returns."""
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO rounds VALUES (?, ?, ?, ?, ?, ?)",
                             (key, item_id, text, rounds, pending, time.time()))
            self._db.commit()

    def get_rounds(self, keys: Iterable[str]) -> dict[str, tuple[str, int, str | None]]:
        """The unfinished transcripts among ``keys``: key -> (text, rounds, pending)."""
        keys = list(dict.fromkeys(keys))
        out: dict[str, tuple[str, int, str | None]] = {}
        with self._lock:
            for i in range(0, len(keys), 500):
                chunk = keys[i:i + 500]
                marks = ",".join("?" * len(chunk))
                for key, text, rounds, pending in self._db.execute(
                        f"SELECT key, text, rounds, pending FROM rounds WHERE key IN ({marks})",
                        chunk):
                    out[key] = (text, rounds, pending)
        return out

    def __len__(self) -> int:
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM generations").fetchone()[0]

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
