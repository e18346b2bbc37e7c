"use client";
import { HORIZONS, type Horizon, type Persona } from "@/lib/api";
import { inputClass } from "./ui";

export const PERSONAS: Persona[] = ["analyst", "investor", "lender", "policymaker", "ngo", "community", "data_driven"];

export function parseHorizon(v: string | null): Horizon {
  return (HORIZONS as readonly string[]).includes(v ?? "") ? (v as Horizon) : "H10";
}
export function parsePersona(v: string | null): Persona {
  return (PERSONAS as readonly string[]).includes(v ?? "") ? (v as Persona) : "analyst";
}

export function HorizonPersona({ horizon, persona, onChange }: { horizon: Horizon; persona: Persona; onChange: (patch: Record<string, string>) => void }) {
  return (
    <div className="flex flex-wrap items-center gap-3">
      <label className="text-sm">
        Horizon{" "}
        <select aria-label="Horizon" className={inputClass} value={horizon} onChange={(e) => onChange({ horizon: e.target.value })}>
          {HORIZONS.map((h) => (
            <option key={h} value={h}>
              {h.slice(1)} years
            </option>
          ))}
        </select>
      </label>
      <label className="text-sm">
        Persona{" "}
        <select aria-label="Persona" className={inputClass} value={persona} onChange={(e) => onChange({ persona: e.target.value })}>
          {PERSONAS.map((p) => (
            <option key={p} value={p}>
              {p}
            </option>
          ))}
        </select>
      </label>
    </div>
  );
}
