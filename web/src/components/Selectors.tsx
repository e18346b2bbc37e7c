"use client";
import { HORIZONS, type Horizon, type Persona } from "@/lib/api";
import { Select } from "./Select";

export const PERSONAS: Persona[] = ["analyst", "investor", "lender", "policymaker", "ngo", "community", "data_driven"];

export function parseHorizon(v: string | null): Horizon {
  return (HORIZONS as readonly string[]).includes(v ?? "") ? (v as Horizon) : "H10";
}
export function parsePersona(v: string | null): Persona {
  return (PERSONAS as readonly string[]).includes(v ?? "") ? (v as Persona) : "analyst";
}

const HORIZON_OPTIONS = HORIZONS.map((h) => ({ value: h, label: `${h.slice(1)} years` }));
const PERSONA_OPTIONS = PERSONAS.map((p) => ({ value: p }));

export function HorizonPersona({ horizon, persona, onChange }: { horizon: Horizon; persona: Persona; onChange: (patch: Record<string, string>) => void }) {
  return (
    <div className="flex flex-wrap items-center gap-3 text-sm">
      <span className="flex items-center gap-1">
        <span aria-hidden="true">Horizon</span>
        <Select label="Horizon" value={horizon} options={HORIZON_OPTIONS} onChange={(v) => onChange({ horizon: v })} />
      </span>
      <span className="flex items-center gap-1">
        <span aria-hidden="true">Persona</span>
        <Select label="Persona" value={persona} options={PERSONA_OPTIONS} onChange={(v) => onChange({ persona: v })} />
      </span>
    </div>
  );
}
