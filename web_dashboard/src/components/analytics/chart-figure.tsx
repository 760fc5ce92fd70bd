import { useId, type ReactNode } from "react";

import { cn } from "@/lib/cn";

export interface Column<Row> {
  header: string;
  cell: (row: Row) => ReactNode;
  numeric?: boolean;
}

/** Rows as a table; the chart's alternative for those who cannot see it, and a list's view. */
export function DataTable<Row>({ caption, columns, rows, rowKey, captionVisible = false }: {
  caption: string;
  columns: readonly Column<Row>[];
  rows: readonly Row[];
  rowKey: (row: Row) => string;
  captionVisible?: boolean;
}) {
  return (
    <table className="w-full text-left text-sm">
      <caption className={captionVisible ? "pb-2 text-left text-sm font-medium text-ink" : "sr-only"}>{caption}</caption>
      <thead className="border-b border-line text-xs uppercase tracking-wide text-muted">
        <tr>
          {columns.map((column) => (
            <th key={column.header} scope="col" className={cn("px-3 py-2 font-medium", column.numeric && "text-right")}>
              {column.header}
            </th>
          ))}
        </tr>
      </thead>
      <tbody className="divide-y divide-line">
        {rows.map((row) => (
          <tr key={rowKey(row)}>
            {columns.map((column, index) =>
              index === 0 ? (
                <th key={column.header} scope="row" className="px-3 py-1.5 font-normal text-ink">
                  {column.cell(row)}
                </th>
              ) : (
                <td key={column.header} className={cn("px-3 py-1.5 text-ink", column.numeric && "text-right tabular-nums")}>
                  {column.cell(row)}
                </td>
              ),
            )}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/**
 * One chart: its title and a sentence saying what it shows (the picture's accessible name and
 * description), the picture, and its numbers as a table behind "Show the numbers".
 */
export function ChartFigure<Row>({ title, summary, columns, rows, rowKey, children, className }: {
  title: string;
  summary: string;
  columns: readonly Column<Row>[];
  rows: readonly Row[];
  rowKey: (row: Row) => string;
  children: ReactNode;
  className?: string;
}) {
  const id = useId();
  return (
    <figure aria-labelledby={`${id}-title`} className={cn("min-w-0 rounded-lg border border-line bg-surface p-4 shadow-sm", className)}>
      <figcaption>
        <h2 id={`${id}-title`} className="text-sm font-semibold text-ink">
          {title}
        </h2>
        <p id={`${id}-summary`} className="mt-0.5 text-xs text-muted">
          {summary}
        </p>
      </figcaption>
      <div role="img" aria-labelledby={`${id}-title`} aria-describedby={`${id}-summary`} className="mt-3 h-60 w-full">
        {children}
      </div>
      <details className="mt-2 text-sm">
        <summary className="cursor-pointer select-none text-xs font-medium text-accent">Show the numbers</summary>
        <div className="mt-2 max-h-72 overflow-auto" tabIndex={0} role="region" aria-label={`${title}, as a table`}>
          <DataTable caption={title} columns={columns} rows={rows} rowKey={rowKey} />
        </div>
      </details>
    </figure>
  );
}
