/**
 * A leads CSV read in the browser the way the API reads it (campaigns/leads_csv.py): the
 * delimiter taken from the header (`,` `;` or tab), a UTF-8 byte-order mark ignored, blank lines
 * before the header skipped. Only the header and the first rows are read here, for the preview
 * and the column mapping.
 *
 * The API finds its columns by their header names and takes no mapping of its own, so the
 * mapping is applied by rewriting the header line alone before the upload: the rows' bytes are
 * sent as they are, so the row numbers of the API's validation report are the file's.
 */

// The header names the API recognises for each role (campaigns/leads_csv.py).
export const PHONE_COLUMNS = ["phone_number", "phone", "number", "to_number", "phone_no", "mobile", "tel"];
export const TIME_ZONE_COLUMNS = ["timezone", "time_zone", "tz"];
export const NAME_COLUMNS = ["name", "full_name"];
export const OWNER_COLUMNS = ["owner_email", "owner"];
const DELIMITERS = [",", ";", "\t"] as const;

export type ColumnRole = "phone_number" | "name" | "timezone" | "owner_email" | "variable";

export interface ColumnMapping {
  role: ColumnRole;
  /** For a dynamic variable: its name in the agent's prompt (`{{company_name}}`). */
  variable: string;
}

export interface LeadsPreview {
  delimiter: string;
  header: string[];
  /** The first data rows, as cells. */
  rows: string[][];
  /** Where the header record ends in the text (the rest is sent unchanged). */
  headerEnd: number;
  /** Where the header record starts (blank lines and the byte-order mark before it). */
  headerStart: number;
}

/** A header cell as the API names its variable: `Company Name` → `company_name`. */
export function variableName(header: string): string {
  const ascii = header.normalize("NFKD").replace(/[^\x00-\x7f]/g, "");
  let name = ascii.toLowerCase().replace(/[^a-z0-9]+/g, "_").replace(/^_+|_+$/g, "");
  if (name && /^[0-9]/.test(name)) name = `col_${name}`;
  return name;
}

function delimiterOf(line: string): string {
  let best: string = ",";
  let most = 0;
  for (const candidate of DELIMITERS) {
    const count = line.split(candidate).length - 1;
    if (count > most) {
      best = candidate;
      most = count;
    }
  }
  return best;
}

/** Reads one CSV record from `start`: its cells and where the next record starts. */
function readRecord(text: string, start: number, delimiter: string): { cells: string[]; next: number } {
  const cells: string[] = [];
  let cell = "";
  let quoted = false;
  let index = start;
  while (index < text.length) {
    const char = text[index];
    if (quoted) {
      if (char === '"' && text[index + 1] === '"') {
        cell += '"';
        index += 2;
        continue;
      }
      if (char === '"') quoted = false;
      else cell += char;
      index += 1;
      continue;
    }
    if (char === '"' && cell === "") quoted = true;
    else if (char === delimiter) {
      cells.push(cell);
      cell = "";
    } else if (char === "\n" || char === "\r") {
      const next = char === "\r" && text[index + 1] === "\n" ? index + 2 : index + 1;
      cells.push(cell);
      return { cells, next };
    } else cell += char;
    index += 1;
  }
  cells.push(cell);
  return { cells, next: text.length };
}

/** The header and the first `limit` non-blank rows; null when the file has no header. */
export function previewLeads(text: string, limit = 5): LeadsPreview | null {
  let start = text.startsWith("\ufeff") ? 1 : 0;
  while (start < text.length) {
    const end = text.indexOf("\n", start);
    const line = text.slice(start, end === -1 ? text.length : end);
    if (line.trim()) break;
    start = end === -1 ? text.length : end + 1;
  }
  if (start >= text.length) return null;
  const firstLine = text.slice(start, text.indexOf("\n", start) === -1 ? text.length : text.indexOf("\n", start));
  const delimiter = delimiterOf(firstLine);
  const header = readRecord(text, start, delimiter);
  const rows: string[][] = [];
  let at = header.next;
  while (at < text.length && rows.length < limit) {
    const record = readRecord(text, at, delimiter);
    if (record.cells.some((cell) => cell.trim())) rows.push(record.cells);
    at = record.next;
  }
  return { delimiter, header: header.cells, rows, headerEnd: header.next, headerStart: start };
}

/** What the API would make of each column as the file stands. */
export function guessMapping(header: string[]): ColumnMapping[] {
  const names = header.map(variableName);
  const first = (aliases: string[]) => {
    for (const alias of aliases) {
      const index = names.indexOf(alias);
      if (index !== -1) return index;
    }
    return -1;
  };
  const roles = new Map<number, ColumnRole>([
    [first(PHONE_COLUMNS), "phone_number"],
    [first(TIME_ZONE_COLUMNS), "timezone"],
    [first(OWNER_COLUMNS), "owner_email"],
    [first(NAME_COLUMNS), "name"],
  ]);
  return header.map((cell, index) => ({
    role: roles.get(index) ?? "variable",
    variable: names[index] || `column_${index + 1}`,
  }));
}

const RESERVED = new Set([...PHONE_COLUMNS, ...TIME_ZONE_COLUMNS, ...OWNER_COLUMNS, ...NAME_COLUMNS]);
const SINGLE_ROLES: ColumnRole[] = ["phone_number", "name", "timezone", "owner_email"];
export const ROLE_LABELS: Record<ColumnRole, string> = {
  phone_number: "Phone number",
  name: "Name",
  timezone: "Time zone",
  owner_email: "Owner (field agent's e-mail)",
  variable: "Dynamic variable",
};

/** What is wrong with a mapping, one message per problem (none: it can be uploaded). */
export function mappingProblems(mapping: ColumnMapping[]): string[] {
  const problems: string[] = [];
  if (!mapping.some((column) => column.role === "phone_number")) problems.push("Choose the column that holds the phone number.");
  for (const role of SINGLE_ROLES) {
    if (mapping.filter((column) => column.role === role).length > 1) problems.push(`Only one column can be the ${ROLE_LABELS[role].toLowerCase()}.`);
  }
  const seen = new Set<string>();
  for (const column of mapping) {
    if (column.role !== "variable") continue;
    if (!/^[a-z_][a-z0-9_]*$/.test(column.variable)) {
      problems.push(`“${column.variable}” is not a variable name: use lower-case letters, digits and _, starting with a letter.`);
    } else if (RESERVED.has(column.variable)) {
      problems.push(`“${column.variable}” is a name the API reads as a column of its own; choose another variable name.`);
    } else if (seen.has(column.variable)) {
      problems.push(`Two columns are both named “${column.variable}”.`);
    }
    seen.add(column.variable);
  }
  return problems;
}

/** The file with its header rewritten to the mapping, every row's bytes unchanged. */
export function mappedFile(text: string, preview: LeadsPreview, mapping: ColumnMapping[]): string {
  const header = mapping.map((column) => (column.role === "variable" ? column.variable : column.role));
  const lineEnd = text.slice(preview.headerStart, preview.headerEnd).endsWith("\r\n") ? "\r\n" : "\n";
  const ending = preview.headerEnd >= text.length && !/[\r\n]$/.test(text) ? "" : lineEnd;
  return text.slice(0, preview.headerStart) + header.join(preview.delimiter) + ending + text.slice(preview.headerEnd);
}

/** A chosen file's text, decoded as UTF-8 (a byte that is not UTF-8 becomes U+FFFD, as the API reads it). */
export function readText(file: Blob): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result ?? ""));
    reader.onerror = () => reject(new Error("The file could not be read. Choose it again."));
    reader.readAsText(file, "utf-8");
  });
}
