// D-Bus addresses as sd-bus and godbus read them, without a connection (no node:net):
// what the lifecycle needs to name a bus before the driver's module is loaded.

/** The first unix:path= or unix:abstract= entry of a D-Bus address ("\0name" for abstract). */
export function unixPathOf(addr: string | undefined): string | undefined {
  if (!addr) return undefined;
  for (const entry of addr.split(";")) {
    const [transport, rest = ""] = entry.split(/:(.*)/s, 2) as [string, string?];
    if (transport !== "unix") continue;
    const kv = new Map(rest.split(",").map((p) => p.split(/=(.*)/s, 2) as [string, string]));
    const unescape = (s: string) => s.replace(/%([0-9A-Fa-f]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
    if (kv.has("path")) return unescape(kv.get("path")!);
    if (kv.has("abstract")) return "\0" + unescape(kv.get("abstract")!);
  }
  return undefined;
}

/**
 * The socket of the user's session bus (rootless: the user's systemd manager is on
 * it): DBUS_SESSION_BUS_ADDRESS, else $XDG_RUNTIME_DIR/bus (dbus-user-session's);
 * undefined when there is neither.
 */
export function userBusPath(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return unixPathOf(env["DBUS_SESSION_BUS_ADDRESS"]) ?? (env["XDG_RUNTIME_DIR"] ? `${env["XDG_RUNTIME_DIR"]}/bus` : undefined);
}
