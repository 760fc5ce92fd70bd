"use client";

import { Bar, BarChart, CartesianGrid, Cell, ComposedChart, Legend, Line, LineChart, Tooltip, XAxis, YAxis } from "recharts";

import type { DayRow, FunnelRow, SplitRow } from "@/lib/analytics-figures";
import { formatMs, formatPercent, formatPerCall } from "@/lib/analytics-figures";

// The theme's colours (src/app/globals.css): one set of charts reads in light and dark mode.
export const INK = {
  accent: "rgb(var(--accent))",
  success: "rgb(var(--success))",
  danger: "rgb(var(--danger))",
  warning: "rgb(var(--warning))",
  muted: "rgb(var(--muted))",
  line: "rgb(var(--line))",
  ink: "rgb(var(--ink))",
  surface: "rgb(var(--surface))",
} as const;

const SIZE = { width: "100%", height: "100%" } as const;
const TICK = { fill: INK.muted, fontSize: 12 } as const;
const TOOLTIP = {
  contentStyle: { background: INK.surface, border: `1px solid ${INK.line}`, borderRadius: 6, color: INK.ink, fontSize: 12 },
  labelStyle: { color: INK.ink, fontWeight: 600 },
  itemStyle: { color: INK.ink },
  cursor: { fill: "rgb(var(--subtle))", stroke: INK.line },
} as const;
const LEGEND = { wrapperStyle: { fontSize: 12, color: INK.muted } } as const;

// Charts are pictures here (their figure names them, a table gives their numbers): Recharts'
// own keyboard layer would make an image interactive.
const CHART = { accessibilityLayer: false, responsive: true, style: SIZE, margin: { top: 8, right: 8, bottom: 0, left: 0 } } as const;

function days() {
  // A long period shows fewer ticks than days, every day still in the tooltip.
  return { dataKey: "label", tick: TICK, tickLine: false, axisLine: { stroke: INK.line }, minTickGap: 16, interval: "preserveStartEnd" as const };
}

export function VolumeChart({ rows }: { rows: DayRow[] }) {
  return (
    <ComposedChart data={rows} {...CHART}>
      <CartesianGrid stroke={INK.line} vertical={false} />
      <XAxis {...days()} />
      <YAxis yAxisId="calls" allowDecimals={false} tick={TICK} tickLine={false} axisLine={false} width={40} />
      <YAxis yAxisId="minutes" orientation="right" tick={TICK} tickLine={false} axisLine={false} width={44} />
      <Tooltip {...TOOLTIP} />
      <Legend {...LEGEND} />
      <Bar yAxisId="calls" dataKey="calls" name="Calls" fill={INK.accent} radius={[3, 3, 0, 0]} isAnimationActive={false} />
      <Line yAxisId="minutes" dataKey="minutes" name="Minutes" stroke={INK.warning} strokeWidth={2} dot={false} isAnimationActive={false} />
    </ComposedChart>
  );
}

export function LatencyChart({ rows }: { rows: DayRow[] }) {
  return (
    <LineChart data={rows} {...CHART}>
      <CartesianGrid stroke={INK.line} vertical={false} />
      <XAxis {...days()} />
      <YAxis tick={TICK} tickLine={false} axisLine={false} width={64} tickFormatter={(value: number) => formatMs(value)} />
      <Tooltip {...TOOLTIP} formatter={(value) => formatMs(Number(value))} />
      <Legend {...LEGEND} />
      <Line dataKey="p50" name="p50" stroke={INK.accent} strokeWidth={2} dot={{ r: 2 }} connectNulls={false} isAnimationActive={false} />
      <Line dataKey="p95" name="p95" stroke={INK.warning} strokeWidth={2} strokeDasharray="5 3" dot={{ r: 2 }} connectNulls={false} isAnimationActive={false} />
    </LineChart>
  );
}

export function DailyLineChart({ rows, dataKey, name, color, percent }: { rows: DayRow[]; dataKey: "successRate" | "interruptions"; name: string; color: string; percent?: boolean }) {
  const format = (value: number) => (percent ? formatPercent(value) : formatPerCall(value));
  return (
    <LineChart data={rows} {...CHART}>
      <CartesianGrid stroke={INK.line} vertical={false} />
      <XAxis {...days()} />
      <YAxis tick={TICK} tickLine={false} axisLine={false} width={48} domain={percent ? [0, 100] : [0, "auto"]} tickFormatter={format} />
      <Tooltip {...TOOLTIP} formatter={(value) => format(Number(value))} />
      <Line dataKey={dataKey} name={name} stroke={color} strokeWidth={2} dot={{ r: 2 }} connectNulls={false} isAnimationActive={false} />
    </LineChart>
  );
}

const SENTIMENT_COLOURS: Record<string, string> = { positive: INK.success, neutral: INK.muted, negative: INK.danger, unknown: INK.line };

/** A split of calls as horizontal bars, each labelled; sentiments in their own colours. */
export function SplitChart({ rows, sentiment }: { rows: SplitRow[]; sentiment?: boolean }) {
  return (
    <BarChart data={rows} layout="vertical" {...CHART} margin={{ top: 0, right: 16, bottom: 0, left: 0 }}>
      <CartesianGrid stroke={INK.line} horizontal={false} />
      <XAxis type="number" allowDecimals={false} tick={TICK} tickLine={false} axisLine={{ stroke: INK.line }} />
      <YAxis type="category" dataKey="label" tick={TICK} tickLine={false} axisLine={false} width={116} interval={0} />
      <Tooltip {...TOOLTIP} />
      <Bar dataKey="count" name="Calls" fill={INK.accent} radius={[0, 3, 3, 0]} isAnimationActive={false} maxBarSize={28}>
        {sentiment ? rows.map((row) => <Cell key={row.key} fill={SENTIMENT_COLOURS[row.key] ?? INK.accent} />) : null}
      </Bar>
    </BarChart>
  );
}

export function FunnelChart({ rows }: { rows: FunnelRow[] }) {
  return (
    <BarChart data={rows} layout="vertical" {...CHART} margin={{ top: 0, right: 16, bottom: 0, left: 0 }}>
      <CartesianGrid stroke={INK.line} horizontal={false} />
      <XAxis type="number" allowDecimals={false} tick={TICK} tickLine={false} axisLine={{ stroke: INK.line }} />
      <YAxis type="category" dataKey="stage" tick={TICK} tickLine={false} axisLine={false} width={116} interval={0} />
      <Tooltip {...TOOLTIP} />
      <Bar dataKey="count" name="Leads" fill={INK.accent} radius={[0, 3, 3, 0]} isAnimationActive={false} maxBarSize={28} />
    </BarChart>
  );
}
