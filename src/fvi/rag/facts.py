"""Warehouse facts for the chat: entity linking, fact passages and the per-entity fact sheets.

Everything is read through the API's own queries (``fvi.api.profiles.entity_profile``,
``fvi.api.queries.list_scores``) and SHAP explanations (``fvi.serving.explain``), so the chat and
the routes can never disagree. Numbers are written with one formatting rule (``num``) in fact
passages and fact sheets alike, so an answer quoting a fact carries the same digits as its source.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from fvi.api import profiles, queries
from fvi.api.db import Reader
from fvi.api.errors import NotFound
from fvi.rag.documents import Document, Section, sha256_bytes
from fvi.registry.vocabulary import DEFAULT_PERSONA

FACT_TABLE = "gold.fvi_scores"
LINK_THRESHOLD = 90
MIN_NAME_CHARS = 4
_GENERIC_NAME_WORDS = re.compile(r"\b(coal )?(mine|project|colliery|mining|complex)s?\b", re.I)


def num(value: Any, digits: int = 1) -> str:
    if value is None:
        return "n/a"
    return f"{float(value):.{digits}f}"


def pct(value: Any) -> str:
    return "n/a" if value is None else f"{100 * float(value):.0f}%"


@dataclass(frozen=True)
class Entity:
    type: str
    id: str
    name: str


@dataclass
class Fact:
    """A warehouse fact as a citable passage."""

    title: str
    text: str
    table: str
    run_id: str | None
    entity: Entity | None


class WarehouseFacts:
    def __init__(self, reader: Reader, registry_hash: str = "") -> None:
        self.r = reader
        self.registry_hash = registry_hash

    def entities(self) -> list[Entity]:
        def load() -> list[Entity]:
            out: list[Entity] = []
            if self.r.has_table("gold", "dim_country"):
                for row in self.r.rows(f"select iso3, country_name from {self.r.table('gold', 'dim_country')}"):
                    if row["iso3"] and row["country_name"]:
                        out.append(Entity("country", row["iso3"], row["country_name"]))
            if self.r.has_table("gold", "dim_mine"):
                for row in self.r.rows(f"select gem_mine_id, mine_name from {self.r.table('gold', 'dim_mine')}"):
                    if row["gem_mine_id"] and row["mine_name"]:
                        out.append(Entity("mine", row["gem_mine_id"], row["mine_name"]))
            return out

        hit = self.r.memo(("rag.entities",))
        return hit if hit is not None else self.r.remember(("rag.entities",), load())

    def plant(self, plant_id: str) -> Entity | None:
        """A coal plant (GEM location ID) of the latest GEM plant tracker release: plants have wiki pages, no FVI."""
        if not self.r.has_table("bronze", "raw_gem_plants__units"):
            return None
        tbl = self.r.table("bronze", "raw_gem_plants__units")
        rows = self.r.rows(
            f"select trim(gem_location_id) as id, max(plant_name) as name from {tbl} "
            f"where lower(trim(gem_location_id)) = lower(?) and _release = (select max(_release) from {tbl}) "
            "group by 1", [plant_id],
        )
        return Entity("plant", rows[0]["id"], rows[0]["name"] or rows[0]["id"]) if rows else None

    def lookup(self, entity_type: str, entity_id: str) -> Entity:
        if entity_type == "plant":
            found = self.plant(entity_id)
            if found is None:
                raise NotFound(f"plant {entity_id!r} not found")
            return found
        for e in self.entities():
            if e.type == entity_type and e.id.lower() == entity_id.lower():
                return e
        raise NotFound(f"{entity_type} {entity_id!r} not found")

    def link(self, question: str) -> Entity | None:
        """The mine or country a question names (fuzzy on names; exact on ids like M0740 or POL)."""
        from rapidfuzz import fuzz

        words = set(re.findall(r"\b[A-Z][A-Z0-9]{2,9}\b", question))
        best: tuple[float, int, Entity] | None = None
        q = question.lower()
        for e in self.entities():
            if e.id in words:
                return e
            core = _GENERIC_NAME_WORDS.sub("", e.name).strip(" -,") if e.type == "mine" else e.name
            if len(core) < MIN_NAME_CHARS:
                continue
            score = fuzz.partial_ratio(core.lower(), q)
            if score >= LINK_THRESHOLD:
                key = (score, len(core) + (5 if e.type == "mine" else 0), e)
                if best is None or key[:2] > best[:2]:
                    best = key
        return best[2] if best else None

    def profile(self, e: Entity) -> dict[str, Any]:
        return profiles.entity_profile(self.r, e.type, e.id, as_of_year=None, horizon=None, persona=None,
                                       registry_hash=self.registry_hash)

    def drivers(self, e: Entity, horizon: str) -> list[str]:
        from fvi.serving import explain as X

        found = X.stored(self.r, e.type, e.id, horizon)
        if found is None:
            return []
        built = X.build(entity_type=e.type, entity_id=e.id, horizon=horizon, top=3, source="precomputed", **found)
        return [d["text"] for d in built["top_drivers"]]

    def entity_facts(self, e: Entity, persona: str = DEFAULT_PERSONA) -> list[Fact]:
        """Score, band and rank per horizon; the published probability; the top drivers (one fact each).

        Plants are not scored: none (their wiki pages are the sources).
        """
        if e.type == "plant":
            return []
        p = self.profile(e)
        run = (p.get("provenance") or {}).get("run_id")
        year = p.get("as_of_year")
        label = f"{p.get('name') or e.name} ({e.id})"
        facts: list[Fact] = []
        for h, by_persona in sorted((p.get("scores") or {}).items(), key=lambda kv: int(kv[0][1:])):
            s = by_persona.get(persona)
            if not s:
                continue
            band = s.get("band") or {}
            ranks = s.get("ranks") or {}
            text = (f"The FVI of {label} at {h} for the {persona} persona, as of {year}, is {num(s.get('fvi'))} "
                    f"(90% band {num(band.get('p05'))} to {num(band.get('p95'))}); its rank is {ranks.get('rank')}.")
            facts.append(Fact(f"{FACT_TABLE}: {label} {h}", text, FACT_TABLE, run, e))
        for h, pred in sorted(((p.get("prediction") or {}).get("horizons") or {}).items(),
                              key=lambda kv: int(kv[0][1:])):
            if pred.get("is_published") and pred.get("p") is not None:
                text = (f"The probability that {label} is still {pred.get('target')} at {h} is {pct(pred['p'])} "
                        f"(interval {pct(pred.get('p_lo'))} to {pct(pred.get('p_hi'))}).")
            else:
                text = f"No probability is published for {label} at {h}: {pred.get('note') or 'not published'}."
            facts.append(Fact(f"gold.fvi_probabilities: {label} {h}", text, "gold.fvi_probabilities", run, e))
        for h in ("H10",):
            words = self.drivers(e, h)
            if words:
                facts.append(Fact(f"gold.fvi_explanations: {label} {h}",
                                  f"The top drivers of the model for {label} at {h}: " + " ".join(words),
                                  "gold.fvi_explanations", run, e))
        return facts

    def lowest_fvi(self, iso3: str, horizon: str = "H10", persona: str = DEFAULT_PERSONA, n: int = 5) -> list[Fact]:
        """The mines of a country with the lowest FVI (least viable), as one fact per mine."""
        if not queries.has_scores(self.r):
            return []
        year = queries.latest_years(self.r).get("mine")
        if year is None:
            return []
        items, _total = queries.list_scores(
            self.r, entity_type="mine", horizon=horizon, persona=persona, as_of_year=year, q=None, country=iso3,
            status=None, order=queries.order_by("fvi", ("fvi",)), limit=n, offset=0,
        )
        out = []
        for i, row in enumerate(items, 1):
            e = Entity("mine", row["entity_id"], row.get("entity_name") or row["entity_id"])
            text = (f"Of the scored mines in {iso3}, {e.name} ({e.id}) has the number {i} lowest FVI at {horizon} "
                    f"for the {persona} persona, as of {year}: {num(row.get('fvi'))}.")
            out.append(Fact(f"{FACT_TABLE}: lowest FVI in {iso3} at {horizon}", text, FACT_TABLE, row.get("run_id"), e))
        return out


SHEET_EMBED = "title"  # a sheet's chunks carry the vector of its title (``Document.embed``)


def fact_sheet(wf: WarehouseFacts, e: Entity, run_id: str | None) -> Document:
    """One generated document per entity.

    Its sha256 leaves the run stamp out, so unchanged facts are not stored again; its vector is
    its title's (the entity), reused from the store whenever the title is unchanged.
    """
    p = wf.profile(e)
    label = f"{p.get('name') or e.name} ({e.id})"
    sections: list[Section] = []
    ident = p.get("identity") or {}
    keep = ("country_name", "country_iso3", "status", "mine_type", "coal_type", "capacity_mtpa", "owners",
            "is_coal_producer", "phase_out_status", "phase_out_year")
    about = "; ".join(f"{k.replace('_', ' ')}: {ident[k]}" for k in keep if ident.get(k) is not None)
    sections.append(Section(text=f"Fact sheet of {label}. {about}.", title=f"{label}: identity"))
    for h, by_persona in sorted((p.get("scores") or {}).items(), key=lambda kv: int(kv[0][1:])):
        lines = []
        for persona, s in sorted(by_persona.items()):
            band = s.get("band") or {}
            rank = (s.get("ranks") or {}).get("rank")
            lines.append(f"FVI of {label} at {h}, persona {persona}: {num(s.get('fvi'))} (90% band "
                         f"{num(band.get('p05'))} to {num(band.get('p95'))}), rank {rank}.")
        sections.append(Section(text="\n".join(lines), title=f"{label}: FVI at {h}"))
    preds = ((p.get("prediction") or {}).get("horizons") or {})
    if preds:
        lines = []
        for h, pred in sorted(preds.items(), key=lambda kv: int(kv[0][1:])):
            if pred.get("is_published") and pred.get("p") is not None:
                lines.append(f"P({pred.get('target')}) of {label} at {h}: {pct(pred['p'])} "
                             f"(interval {pct(pred.get('p_lo'))} to {pct(pred.get('p_hi'))}).")
            else:
                lines.append(f"No probability published for {label} at {h}: {pred.get('note') or 'not published'}.")
        sections.append(Section(text="\n".join(lines), title=f"{label}: probability of operating"))
    words = wf.drivers(e, "H10")
    if words:
        sections.append(Section(text=" ".join(words), title=f"{label}: top drivers at H10"))
    dq = p.get("data_quality") or {}
    if dq.get("imputed_share") is not None:
        sections.append(Section(text=f"Data quality of {label}: {pct(dq['imputed_share'])} of metric values imputed; "
                                     f"counts by treatment: {dq.get('counts')}.", title=f"{label}: data quality"))
    srcs = (p.get("provenance") or {}).get("sources") or []
    if srcs:
        seen = sorted({(s.get("source_id"), s.get("release"), s.get("licence_name")) for s in srcs}, key=str)
        sections.append(Section(text="Sources: " + "; ".join(f"{a} release {b} ({c})" for a, b, c in seen) + ".",
                                title=f"{label}: sources"))
    body = "\n\n".join(s.text for s in sections)
    run = (p.get("provenance") or {}).get("run_id") or run_id
    return Document(
        doc_id=f"factsheet-{e.type}-{e.id.lower()}", kind="fact_sheet", title=f"FVI fact sheet: {label}",
        source_path=None, source_url=f"/v1/{'mines' if e.type == 'mine' else 'countries'}/{e.id}",
        sha256=sha256_bytes(f"embed={SHEET_EMBED}\n{body}".encode()),
        licence="CC BY 4.0 (FVI; derived from the sources listed)",
        collection="fact_sheets", sections=sections, entity_type=e.type, entity_id=e.id, run_id=run,
        meta={"run_id": run}, embed=SHEET_EMBED,
    )


def fact_sheets(wf: WarehouseFacts, run_id: str | None, max_mines: int = -1) -> list[Document]:
    """Every country's sheet, and the mines' (largest capacity first, at most ``max_mines``; -1: all)."""
    ents = [e for e in wf.entities() if e.type == "country"]
    mines = [e for e in wf.entities() if e.type == "mine"]
    if max_mines >= 0 and len(mines) > max_mines:
        cap = {r["gem_mine_id"]: r["capacity_mtpa"] or 0.0 for r in wf.r.rows(
            f"select gem_mine_id, capacity_mtpa from {wf.r.table('gold', 'dim_mine')}")}
        mines = sorted(mines, key=lambda e: (-cap.get(e.id, 0.0), e.id))[:max_mines]
    out = []
    for e in ents + mines:
        try:
            out.append(fact_sheet(wf, e, run_id))
        except NotFound:
            continue
    return out


FACT_SHEET_FORMAT = "2"  # bump when ``fact_sheet`` writes different text from the same facts


def warehouse_key(wf: WarehouseFacts, max_mines: int, embed_model: str) -> str | None:
    """What the fact sheets depend on: the run that built gold, the mine cap, the format and the model.

    None when the warehouse cannot say which run built it (then the sheets are always rebuilt).
    """
    parts = []
    for layer, name in (("bronze", "ingest_manifest"), ("gold", "fvi_scores")):
        if not wf.r.has_table(layer, name):
            return None
        try:
            row = wf.r.one(f"select max(run_id) as v from {wf.r.table(layer, name)}")
        except Exception:  # noqa: BLE001 - a table without run_id: no key, sheets rebuilt
            return None
        if not row or row["v"] is None:
            return None
        parts.append(str(row["v"]))
    return "|".join([*parts, str(max_mines), FACT_SHEET_FORMAT, embed_model])

