"use client";
/** A one-thumb slider on Radix UI's Slider primitive (arrow keys, Page Up/Down, Home/End; ARIA slider role). */
import * as RSlider from "@radix-ui/react-slider";

export function Slider({
  label,
  value,
  min,
  max,
  step,
  onChange,
  className = "",
  thumbProps = {},
}: {
  label: string;
  value: number;
  min: number;
  max: number;
  step: number;
  onChange: (value: number) => void;
  className?: string;
  /** data-* attributes for the thumb (the focusable element tests and scripts address). */
  thumbProps?: Record<`data-${string}`, string>;
}) {
  return (
    <RSlider.Root
      className={`relative flex h-5 w-full touch-none select-none items-center ${className}`}
      value={[value]}
      min={min}
      max={max}
      step={step}
      onValueChange={(v) => onChange(v[0] ?? value)}
    >
      <RSlider.Track className="relative h-1.5 grow rounded-full bg-slate-300 dark:bg-slate-600">
        <RSlider.Range className="absolute h-full rounded-full bg-blue-700 dark:bg-blue-400" />
      </RSlider.Track>
      <RSlider.Thumb
        aria-label={label}
        className="block h-4 w-4 rounded-full border border-blue-800 bg-white shadow focus:outline-none focus-visible:ring-2 focus-visible:ring-blue-600 dark:border-blue-300"
        {...thumbProps}
      />
    </RSlider.Root>
  );
}
