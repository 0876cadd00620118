/**
 * CSV of tidy rows: the union of the rows' keys as header (first-seen order), RFC 4180 quoting,
 * numbers as JavaScript prints them (NaN stays NaN), objects as JSON; '' for no rows.
 */
export function toCsv(rows: readonly object[]): string {
  if (rows.length === 0) return '';
  const columns: string[] = [];
  for (const row of rows) for (const key of Object.keys(row)) if (!columns.includes(key)) columns.push(key);
  const lines = [columns.join(','), ...rows.map((row) => columns.map((c) => csvCell((row as Record<string, unknown>)[c])).join(','))];
  return `${lines.join('\n')}\n`;
}

function csvCell(value: unknown): string {
  if (value === undefined || value === null) return '';
  let text: string;
  if (typeof value === 'string') text = value;
  else if (typeof value === 'number') text = String(value);
  else if (typeof value === 'boolean') text = value ? 'true' : 'false';
  else text = JSON.stringify(value) ?? '';
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
