"""Guardrails: scope, prompt injection in retrieved text, and the grounding check on every answer.

The grounding check is the same for both backends: an answer is a list of sentences, each must
cite at least one passage ``[n]`` that exists, and every number in it must appear in one of the
passages it cites (warehouse facts are passages too); a sentence that fails is dropped and the
response lists it with the reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

_CITE = re.compile(r"\[(\d{1,3})\]")
_NUMBER = re.compile(r"(?<![\w.])[-+]?\d[\d,]*(?:\.\d+)?")
_SENT = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9(\"'])")


@cache
def rules() -> dict[str, Any]:
    return dict(yaml.safe_load((Path(__file__).parent / "guardrails.yml").read_text()))


@cache
def _injection_res() -> list[re.Pattern[str]]:
    return [re.compile(p, re.IGNORECASE) for p in rules()["injection_patterns"]]


def in_scope(question: str, *, entity_linked: bool) -> bool:
    if entity_linked:
        return True
    q = question.lower()
    return any(stem in q for stem in rules()["topic_stems"])


def split_sentences(text: str) -> list[str]:
    parts = [p.strip() for p in _SENT.split(text.replace("\n", " ")) if p.strip()]
    return [re.sub(r"\s{2,}", " ", p) for p in parts]


def is_injection(sentence: str) -> bool:
    return any(r.search(sentence) for r in _injection_res())


def sanitise(text: str) -> tuple[str, int]:
    """The passage without its instruction-like sentences, and how many were removed."""
    kept, dropped = [], 0
    for s in split_sentences(text):
        if is_injection(s):
            dropped += 1
        else:
            kept.append(s)
    return " ".join(kept), dropped


def _norm_number(tok: str) -> str | None:
    t = tok.lstrip("+-").replace(",", "")
    if t in ("", "-"):
        return None
    try:
        v = float(t)
    except ValueError:
        return None
    return f"{v:.6g}"


def numbers(text: str) -> set[str]:
    """Numbers in a text, normalised (``3,788`` = ``3788``, ``0.50`` = ``0.5``); citation marks excluded."""
    text = _CITE.sub(" ", text)
    out = set()
    for m in _NUMBER.finditer(text):
        n = _norm_number(m.group(0))
        if n is not None:
            out.add(n)
    return out


@dataclass
class Checked:
    kept: list[str]
    dropped: list[dict[str, str]]


def citations_of(sentence: str) -> list[int]:
    return [int(n) for n in _CITE.findall(sentence)]


def check_sentence(sentence: str, sources: dict[int, str]) -> str | None:
    """None when the sentence is grounded, else the reason it is not."""
    cited = [n for n in citations_of(sentence) if n in sources]
    if not cited:
        return "cites no retrieved passage"
    have: set[str] = set()
    for n in cited:
        have |= numbers(sources[n])
    missing = sorted(numbers(sentence) - have)
    if missing:
        return f"number(s) {', '.join(missing)} in no cited passage"
    return None


def ground(sentences: list[str], sources: dict[int, str]) -> Checked:
    kept, dropped = [], []
    for s in sentences:
        reason = check_sentence(s, sources)
        if reason is None:
            kept.append(s)
        else:
            dropped.append({"sentence": s, "reason": reason})
    return Checked(kept, dropped)
