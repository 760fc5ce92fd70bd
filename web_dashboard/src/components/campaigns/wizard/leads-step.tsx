"use client";

import { useId } from "react";

import { Alert } from "@/components/ui/card";
import { Input, Select } from "@/components/ui/field";
import { ROLE_LABELS, mappingProblems, type ColumnMapping, type ColumnRole, type LeadsPreview } from "@/lib/leads-file";

export interface LeadsDraft {
  fileName: string;
  text: string;
  preview: LeadsPreview | null;
  mapping: ColumnMapping[];
}

const ROLES = Object.keys(ROLE_LABELS) as ColumnRole[];

/** The leads file: chosen, previewed (its first rows), and each column given its role. */
export function LeadsStep({
  leads,
  onFile,
  onMapping,
  error,
}: {
  leads: LeadsDraft | null;
  onFile: (file: File) => void;
  onMapping: (mapping: ColumnMapping[]) => void;
  error?: string | null;
}) {
  const inputId = useId();
  const problems = leads?.preview ? mappingProblems(leads.mapping) : [];
  const set = (index: number, change: Partial<ColumnMapping>) =>
    onMapping((leads?.mapping ?? []).map((column, i) => (i === index ? { ...column, ...change } : column)));
  return (
    <div className="space-y-5">
      <div className="space-y-1.5">
        <label htmlFor={inputId} className="block text-sm font-medium text-ink">
          Leads file (CSV)
        </label>
        <input
          id={inputId}
          type="file"
          accept=".csv,text/csv,text/plain"
          onChange={(event) => {
            const file = event.target.files?.[0];
            if (file) onFile(file);
          }}
          className="block w-full text-sm text-ink file:mr-3 file:h-9 file:rounded-md file:border file:border-line file:bg-surface file:px-3 file:text-sm file:font-medium file:text-ink hover:file:bg-subtle"
        />
        <p className="text-xs leading-relaxed text-muted">
          One lead per row under a header row; comma, semicolon or tab separated. Every column that is not the phone number, time zone or owner
          becomes a dynamic variable the agent’s prompt can use. The API checks every row on upload and reports each bad one by its row number.
        </p>
      </div>
      {error ? <Alert title="This file cannot be used">{error}</Alert> : null}
      {leads && !leads.preview ? <Alert title="This file is empty">The first line must be a header naming the columns.</Alert> : null}
      {leads?.preview ? (
        <>
          <div>
            <h3 className="text-sm font-semibold text-ink">Columns</h3>
            <p className="mt-0.5 text-xs text-muted">What each column of {leads.fileName} holds. The header row is rewritten to this before the upload; the rows are sent as they are.</p>
            <div className="mt-3 grid items-start gap-3 sm:grid-cols-2 xl:grid-cols-3">
              {leads.preview.header.map((title, index) => {
                const column = leads.mapping[index];
                if (!column) return null;
                return (
                  <fieldset key={index} className="rounded-md border border-line p-3">
                    <legend className="px-1 font-mono text-xs text-muted">{title || `column ${index + 1}`}</legend>
                    <label className="sr-only" htmlFor={`${inputId}-role-${index}`}>
                      Role of column {title || index + 1}
                    </label>
                    <Select id={`${inputId}-role-${index}`} value={column.role} onChange={(event) => set(index, { role: event.target.value as ColumnRole })}>
                      {ROLES.map((role) => (
                        <option key={role} value={role}>
                          {ROLE_LABELS[role]}
                        </option>
                      ))}
                    </Select>
                    {column.role === "variable" ? (
                      <div className="mt-2">
                        <label className="mb-1 block text-xs text-muted" htmlFor={`${inputId}-var-${index}`}>
                          Variable name of column {title || index + 1}
                        </label>
                        <Input
                          id={`${inputId}-var-${index}`}
                          className="h-9 font-mono"
                          value={column.variable}
                          onChange={(event) => set(index, { variable: event.target.value })}
                        />
                      </div>
                    ) : null}
                  </fieldset>
                );
              })}
            </div>
          </div>
          {problems.length > 0 ? (
            <Alert title="The columns need attention">
              <ul className="list-disc pl-5">
                {problems.map((problem) => (
                  <li key={problem}>{problem}</li>
                ))}
              </ul>
            </Alert>
          ) : null}
          <div>
            <h3 className="text-sm font-semibold text-ink">First rows</h3>
            <div className="mt-2 overflow-x-auto rounded-md border border-line">
              <table className="w-full text-left text-xs">
                <caption className="sr-only">The first rows of the leads file</caption>
                <thead className="bg-subtle/60 text-muted">
                  <tr>
                    {leads.mapping.map((column, index) => (
                      <th key={index} scope="col" className="whitespace-nowrap px-3 py-2 font-medium">
                        {column.role === "variable" ? `{{${column.variable}}}` : ROLE_LABELS[column.role]}
                      </th>
                    ))}
                  </tr>
                </thead>
                <tbody className="divide-y divide-line">
                  {leads.preview.rows.map((row, rowIndex) => (
                    <tr key={rowIndex}>
                      {leads.mapping.map((_, index) => (
                        <td key={index} className="whitespace-nowrap px-3 py-2 text-ink">
                          {row[index] ?? ""}
                        </td>
                      ))}
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </div>
        </>
      ) : null}
    </div>
  );
}
