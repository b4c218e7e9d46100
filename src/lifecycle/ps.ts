// `ps`'s table form: the host's ps output cut down to the container's pids,
// the header kept (runc's ps.go). Pure, so the filter is tested without ps.
import { SetupError } from "../errors";

export function filterPsOutput(output: string, pids: readonly number[]): string {
  const lines = output.split("\n");
  const header = lines[0] ?? "";
  const pidIndex = header.trim().split(/\s+/).indexOf("PID");
  if (pidIndex < 0) throw new SetupError("couldn't find PID field in ps output", undefined, { where: "ps" });
  const want = new Set(pids);
  const out = [header];
  for (const line of lines.slice(1)) {
    if (line.length === 0) continue;
    const field = line.trim().split(/\s+/)[pidIndex];
    if (field === undefined || !/^-?\d+$/.test(field)) {
      throw new SetupError(`unable to parse pid: ${JSON.stringify(field ?? "")} in ${JSON.stringify(line)}`, undefined, { where: "ps" });
    }
    if (want.has(Number(field))) out.push(line);
  }
  return out.join("\n") + "\n";
}
