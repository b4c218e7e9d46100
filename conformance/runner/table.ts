// Plain-text scoreboard: one row per validation file, one column group per
// runtime so that runtimes can be compared side by side. Pure: data in, text out.

export interface Cell {
  pass: boolean;
  ok: number;
  failed: number;
  skipped: number;
  /** Short failure reason ("timeout", "exit 1", ...); empty for a pass. */
  note: string;
}

export interface Row {
  file: string;
  /** One entry per runtime, in the order of the runtimes list; undefined when not run. */
  cells: (Cell | undefined)[];
}

export interface Totals {
  filesPassed: number;
  files: number;
  ok: number;
  failed: number;
  skipped: number;
}

const NOTE_MAX = 28;

export function totalsOf(rows: readonly Row[], column: number): Totals {
  const t: Totals = { filesPassed: 0, files: 0, ok: 0, failed: 0, skipped: 0 };
  for (const row of rows) {
    const c = row.cells[column];
    if (!c) continue;
    t.files++;
    if (c.pass) t.filesPassed++;
    t.ok += c.ok;
    t.failed += c.failed;
    t.skipped += c.skipped;
  }
  return t;
}

export function formatTable(runtimes: readonly string[], rows: readonly Row[]): string {
  const totals = runtimes.map((_, i) => totalsOf(rows, i));
  const fileW = Math.max("file".length, "TOTAL".length, ...rows.map((r) => r.file.length));

  // Widths per runtime group, sized by the widest value including the totals.
  const groups = runtimes.map((name, i) => {
    const cells = rows.map((r) => r.cells[i]);
    const t = totals[i]!;
    const num = (pick: (c: Cell) => number, total: number, head: string) =>
      Math.max(head.length, String(total).length, ...cells.map((c) => (c ? String(pick(c)).length : 1)));
    const g = {
      result: Math.max("result".length, `${t.filesPassed}/${t.files}`.length),
      ok: num((c) => c.ok, t.ok, "ok"),
      failed: num((c) => c.failed, t.failed, "fail"),
      skipped: num((c) => c.skipped, t.skipped, "skip"),
      note: Math.max(0, ...cells.map((c) => (c ? clip(c.note).length : 0))),
      name,
    };
    const inner = g.result + 1 + g.ok + 1 + g.failed + 1 + g.skipped + (g.note > 0 ? 1 + g.note : 0);
    return { ...g, width: Math.max(inner, name.length) };
  });

  const sep = "  ";
  const lines: string[] = [];
  lines.push(trimEnd([pad("", fileW), ...groups.map((g) => pad(g.name, g.width))].join(sep)));
  lines.push(
    trimEnd(
      [
        pad("file", fileW),
        ...groups.map((g) =>
          pad([pad("result", g.result), lpad("ok", g.ok), lpad("fail", g.failed), lpad("skip", g.skipped)].join(" ") + (g.note ? " " + "note" : ""), g.width),
        ),
      ].join(sep),
    ),
  );
  lines.push("-".repeat(fileW + groups.reduce((n, g) => n + sep.length + g.width, 0)));

  for (const row of rows) {
    const parts = [pad(row.file, fileW)];
    groups.forEach((g, i) => {
      const c = row.cells[i];
      if (!c) {
        parts.push(pad([pad("-", g.result), lpad("-", g.ok), lpad("-", g.failed), lpad("-", g.skipped)].join(" "), g.width));
        return;
      }
      const body = [pad(c.pass ? "PASS" : "FAIL", g.result), lpad(String(c.ok), g.ok), lpad(String(c.failed), g.failed), lpad(String(c.skipped), g.skipped)].join(" ");
      parts.push(pad(g.note && c.note ? `${body} ${clip(c.note)}` : body, g.width));
    });
    lines.push(trimEnd(parts.join(sep)));
  }

  lines.push("-".repeat(fileW + groups.reduce((n, g) => n + sep.length + g.width, 0)));
  const totalParts = [pad("TOTAL", fileW)];
  groups.forEach((g, i) => {
    const t = totals[i]!;
    totalParts.push(pad([pad(`${t.filesPassed}/${t.files}`, g.result), lpad(String(t.ok), g.ok), lpad(String(t.failed), g.failed), lpad(String(t.skipped), g.skipped)].join(" "), g.width));
  });
  lines.push(trimEnd(totalParts.join(sep)));
  lines.push("");
  lines.push(...formatTotals(runtimes, totals));
  return lines.join("\n") + "\n";
}

/** One line per runtime: files passed / total, then assertion counts. */
export function formatTotals(runtimes: readonly string[], totals: readonly Totals[]): string[] {
  const nameW = Math.max(0, ...runtimes.map((r) => r.length));
  return runtimes.map((name, i) => {
    const t = totals[i]!;
    return `${pad(name, nameW)}  files passed ${t.filesPassed}/${t.files}  assertions ok ${t.ok}, failed ${t.failed}, skipped ${t.skipped}`;
  });
}

function clip(s: string): string {
  return s.length > NOTE_MAX ? `${s.slice(0, NOTE_MAX - 1)}…` : s;
}

function pad(s: string, w: number): string {
  return s.length >= w ? s : s + " ".repeat(w - s.length);
}

function lpad(s: string, w: number): string {
  return s.length >= w ? s : " ".repeat(w - s.length) + s;
}

function trimEnd(s: string): string {
  return s.replace(/\s+$/, "");
}
