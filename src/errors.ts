// One error hierarchy for the whole runtime. Every error a user can cause is an
// OcirtError; its class decides the exit code in exactly one place (exitCodeOf).
// Anything else that escapes is a bug and is reported as such (exit 2 would hide
// it among usage errors, so internal errors also use 1 like runc, but are marked).

export class OcirtError extends Error {
  /** Which step or config field failed, e.g. "mounts[2].destination" or "pivot_root". */
  readonly where: string | undefined;
  override readonly cause: unknown;
  constructor(message: string, opts: { where?: string; cause?: unknown } = {}) {
    super(message);
    this.name = new.target.name;
    this.where = opts.where;
    this.cause = opts.cause;
  }
  /** One line for the user: "where: message". */
  line(): string {
    return lineOf(this);
  }
}

/** The command line itself is wrong (unknown flag, missing argument). */
export class UsageError extends OcirtError {}
/** No such command: runc (urfave/cli's "No help topic for ...") exits 3 there. */
export class UnknownCommandError extends UsageError {}
/** config.json is missing, unreadable or invalid. */
export class ConfigError extends OcirtError {
  constructor(message: string, readonly problems: readonly string[] = [], opts: { where?: string; cause?: unknown } = {}) {
    super(message, opts);
  }
}
/** A container id, state dir or lock problem (does not exist, already exists, wrong status). */
export class StateError extends OcirtError {}
export class NotFoundError extends StateError {}
export class ExistsError extends StateError {}
/** The container is not in a status that allows the operation. */
export class StatusError extends StateError {}
/** A step of container setup failed in the kernel (mount, clone, setns ...). */
export class SetupError extends OcirtError {
  constructor(message: string, readonly errno?: number, opts: { where?: string; cause?: unknown } = {}) {
    super(message, opts);
  }
}
/** A feature that a later milestone brings. */
export class NotImplementedError extends OcirtError {
  constructor(what: string) {
    super(`${what}: not implemented yet`);
  }
}
/** The host lacks what the config asks for (a controller, a namespace type, an LSM). */
export class HostError extends OcirtError {}

/**
 * A failure of a command that reports its own program's status (exec): runc exits
 * 255 for the runtime's own failures there, so callers can tell them from the
 * program's exit status, and says "exec failed: ...".
 */
export class CommandFailed extends OcirtError {
  constructor(readonly step: string, readonly code: number, readonly inner: unknown) {
    super(`${step} failed: ${describe(inner)}`, { cause: inner });
  }
}

/**
 * The only place that maps errors to exit codes. runc exits 1 for every failure but
 * exec's (255) and an unknown command (3).
 */
export function exitCodeOf(err: unknown): number {
  if (err instanceof ExitStatus) return err.code;
  if (err instanceof CommandFailed) return err.code;
  if (err instanceof UnknownCommandError) return 3;
  return 1;
}

/**
 * Not an error: a command (run, exec) that must exit with the container's status.
 * Thrown so that cleanup in finally blocks still happens on the way out.
 */
export class ExitStatus extends Error {
  constructor(readonly code: number) {
    super(`exit status ${code}`);
  }
}

// The classes' names, which the minified bundles would otherwise shorten (esbuild's
// keepNames is off: it names every function of a bundle when the bundle loads, ~0.5 ms of
// every command); `new.target.name` above reads them, and --debug's stacks show them.
for (const [cls, name] of [
  [OcirtError, "OcirtError"], [UsageError, "UsageError"], [UnknownCommandError, "UnknownCommandError"],
  [ConfigError, "ConfigError"], [StateError, "StateError"], [NotFoundError, "NotFoundError"],
  [ExistsError, "ExistsError"], [StatusError, "StatusError"], [SetupError, "SetupError"],
  [NotImplementedError, "NotImplementedError"], [HostError, "HostError"], [CommandFailed, "CommandFailed"],
  [ExitStatus, "ExitStatus"],
] as const) Object.defineProperty(cls, "name", { value: name });

/**
 * "where: message". A function, not only the method: Bun (JavaScriptCore) gives every
 * Error own `line` and `column` properties (numbers), which hide a method of that name.
 */
function lineOf(err: OcirtError): string {
  return err.where ? `${err.where}: ${err.message}` : err.message;
}

/** Formats any thrown value as the one line the user sees. */
export function describe(err: unknown): string {
  if (err instanceof OcirtError) return lineOf(err);
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    return code ? `${err.message}` : `internal error: ${err.message}`;
  }
  return `internal error: ${String(err)}`;
}

export function errnoOf(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}
