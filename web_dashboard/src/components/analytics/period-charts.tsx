"use client";

import {
  dayRows,
  formatCount,
  formatMinutes,
  formatMs,
  formatPercent,
  formatPerCall,
  interruptionSummary,
  latencySummary,
  rateSummary,
  SENTIMENT_ORDER,
  splitRows,
  splitSummary,
  volumeSummary,
  type Daily,
  type DayRow,
  type SplitRow,
  type Summary,
} from "@/lib/analytics-figures";
import { longDay } from "@/lib/analytics-range";

import { ChartFigure, type Column } from "./chart-figure";
import { DailyLineChart, INK, LatencyChart, SplitChart, VolumeChart } from "./charts";

const day: Column<DayRow> = { header: "Day", cell: (row) => longDay(row.date) };
const dateKey = (row: DayRow) => row.date;
const splitKey = (row: SplitRow) => row.key;
const SPLIT_COLUMNS = (what: string): Column<SplitRow>[] => [
  { header: what, cell: (row) => row.label },
  { header: "Calls", cell: (row) => formatCount(row.count), numeric: true },
  { header: "Share", cell: (row) => formatPercent(row.share), numeric: true },
];

/** The period's charts: per day (volume, latency, success, interruptions) and its splits. */
export function PeriodCharts({ summary, daily }: { summary: Summary; daily: Daily }) {
  const rows = dayRows(daily);
  const outcomes = splitRows(summary.outcomes);
  const sentiments = splitRows(summary.sentiments, SENTIMENT_ORDER);
  return (
    <div className="grid gap-4 lg:grid-cols-2">
      <ChartFigure
        className="lg:col-span-2"
        title="Calls and minutes per day"
        summary={volumeSummary(rows)}
        rows={rows}
        rowKey={dateKey}
        columns={[
          day,
          { header: "Calls", cell: (row) => formatCount(row.calls), numeric: true },
          { header: "Minutes", cell: (row) => formatMinutes(row.minutes), numeric: true },
        ]}
      >
        <VolumeChart rows={rows} />
      </ChartFigure>
      <ChartFigure
        title="Voice-to-voice latency per day"
        summary={latencySummary(rows, summary)}
        rows={rows}
        rowKey={dateKey}
        columns={[
          day,
          { header: "p50", cell: (row) => formatMs(row.p50), numeric: true },
          { header: "p95", cell: (row) => formatMs(row.p95), numeric: true },
        ]}
      >
        <LatencyChart rows={rows} />
      </ChartFigure>
      <ChartFigure
        title="Success rate per day"
        summary={rateSummary(rows, summary)}
        rows={rows}
        rowKey={dateKey}
        columns={[day, { header: "Success rate", cell: (row) => formatPercent(row.successRate), numeric: true }]}
      >
        <DailyLineChart rows={rows} dataKey="successRate" name="Success rate" color={INK.success} percent />
      </ChartFigure>
      <ChartFigure
        title="Outcomes"
        summary={splitSummary(outcomes, "outcomes")}
        rows={outcomes}
        rowKey={splitKey}
        columns={SPLIT_COLUMNS("Outcome")}
      >
        <SplitChart rows={outcomes} />
      </ChartFigure>
      <ChartFigure
        title="Sentiment"
        summary={splitSummary(sentiments, "sentiments")}
        rows={sentiments}
        rowKey={splitKey}
        columns={SPLIT_COLUMNS("Sentiment")}
      >
        <SplitChart rows={sentiments} sentiment />
      </ChartFigure>
      <ChartFigure
        className="lg:col-span-2"
        title="Interruptions per call, per day"
        summary={interruptionSummary(rows, summary)}
        rows={rows}
        rowKey={dateKey}
        columns={[day, { header: "Interruptions per call", cell: (row) => formatPerCall(row.interruptions), numeric: true }]}
      >
        <DailyLineChart rows={rows} dataKey="interruptions" name="Interruptions per call" color={INK.danger} />
      </ChartFigure>
    </div>
  );
}
