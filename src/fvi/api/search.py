"""Name search for mines and countries: accent- and case-insensitive, alternative names, fuzzy fallback.

A query matches an entity when, after folding (Unicode to ASCII with ``text-unidecode``, lower
case, punctuation to spaces), it is contained in one of the entity's names: the scored name, GEM's
``Mine Name AKAs`` and local-language name for mines, the ISO names and the maintained alias seed
for countries; or when it equals the entity id (``m1052`` finds ``M1052``). When nothing contains
the query, names whose words are close to it (``difflib`` ratio >= 0.75, e.g. "Germny") are
returned, closest first. The index is built once per build and kept in the reader's memo.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Any

from text_unidecode import unidecode

_NON_WORD = re.compile(r"[^a-z0-9]+")
FUZZY_CUTOFF = 0.75
MAX_FUZZY = 50


def fold(text: str) -> str:
    """``Bełchatów`` -> ``belchatow``; ``Turów`` -> ``turow``; punctuation becomes one space."""
    return _NON_WORD.sub(" ", unidecode(text).lower()).strip()


@dataclass(frozen=True)
class SearchIndex:
    ids: list[str]
    names: list[list[str]]  # folded names per entity
    words: dict[str, set[int]]  # folded word -> entity positions

    @classmethod
    def build(cls, entries: dict[str, list[str]]) -> SearchIndex:
        ids, names = [], []
        words: dict[str, set[int]] = {}
        for i, (eid, raw) in enumerate(sorted(entries.items())):
            folded = sorted({fold(n) for n in raw if isinstance(n, str) and fold(n)})
            ids.append(eid)
            names.append(folded)
            for n in folded:
                for w in n.split():
                    words.setdefault(w, set()).add(i)
        return cls(ids, names, words)

    def match(self, query: str) -> tuple[list[str], bool]:
        """(entity ids, fuzzy): substring or id matches; else close words, closest first."""
        q = fold(query)
        if not q:
            return [], False
        exact = [
            eid
            for eid, names in zip(self.ids, self.names, strict=True)
            if eid.lower() == query.strip().lower() or any(q in n for n in names)
        ]
        if exact:
            return exact, False
        best: dict[int, float] = {}
        q_words = q.split()
        for qw in q_words:
            for w in difflib.get_close_matches(qw, self.words, n=MAX_FUZZY, cutoff=FUZZY_CUTOFF):
                r = difflib.SequenceMatcher(None, qw, w).ratio() / len(q_words)
                for i in self.words[w]:
                    best[i] = best.get(i, 0.0) + r
        order = sorted(best, key=lambda i: (-best[i], self.ids[i]))[:MAX_FUZZY]
        return [self.ids[i] for i in order], True


def _split_akas(value: Any) -> list[str]:
    if not isinstance(value, str):
        return []
    return [p.strip() for p in re.split(r"[,;]", value) if p.strip()]


def index_for(r: Any, entity_type: str, as_of_year: int) -> SearchIndex:
    """The search index of one entity type's scored entities at ``as_of_year`` (memoised per build)."""
    key = ("search-index", entity_type, as_of_year)
    hit = r.memo(key)
    if hit is not None:
        return hit
    scores = r.table("gold", "fvi_scores")
    rows = r.rows(
        f"select distinct entity_id, entity_name from {scores} where entity_type = ? and as_of_year = ?",
        [entity_type, as_of_year],
    )
    entries: dict[str, list[str]] = {}
    for row in rows:
        entries.setdefault(str(row["entity_id"]), []).append(row["entity_name"])
    if entity_type == "mine" and r.has_table("gold", "dim_mine"):
        cols = {c.lower() for c in r.query(f"select * from {r.table('gold', 'dim_mine')} limit 0").columns}
        extra = [c for c in ("mine_name_akas", "mine_name_local", "complex_name") if c in cols]
        if extra:
            for row in r.rows(f"select gem_mine_id, {', '.join(extra)} from {r.table('gold', 'dim_mine')}"):
                names = entries.get(str(row["gem_mine_id"]))
                if names is not None:
                    for c in extra:
                        names.extend(_split_akas(row[c]) if c == "mine_name_akas" else [row[c]])
    if entity_type == "country":
        from fvi.countries import countries_frame, load_aliases

        frame = countries_frame()
        for col in ("name", "common_name", "official_name"):
            for iso3, value in zip(frame["iso3"], frame[col], strict=True):
                if str(iso3) in entries and isinstance(value, str):
                    entries[str(iso3)].append(value)
        for a in load_aliases():
            if a.iso3 in entries:
                entries[a.iso3].append(a.alias)
    return r.remember(key, SearchIndex.build(entries))
