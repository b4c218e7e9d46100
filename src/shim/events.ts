// Task events to containerd, in the order they happened: through containerd's
// ttrpc events service ($TTRPC_ADDRESS, which containerd 1.6+ gives every shim:
// Events/Forward with an Envelope), or else through `containerd publish` (the
// -publish-binary), which reads the event as a protobuf Any on its stdin. One event
// is in flight at a time; a failed one is retried (containerd may be restarting)
// before the next goes, so TaskExit can never overtake TaskStart.
import { spawnSync } from "node:child_process";
import { Any } from "./gen/google/protobuf/any";
import { Envelope, ForwardRequest } from "./gen/events_service";
import {
  TaskCreate, TaskDelete, TaskExecAdded, TaskExecStarted, TaskExit, TaskOOM, TaskPaused, TaskResumed, TaskStart,
} from "./gen/events";
import { nowTimestamp } from "./reaper";
import { TtrpcClient } from "./ttrpc";
import { shimLog } from "./log";

export const EVENTS_SERVICE = "containerd.services.events.ttrpc.v1.Events";

interface Codec<T> {
  encode(m: T): { finish(): Uint8Array };
  fromPartial(o: object): T;
}

/** topic, the Any type URL (the message's full name) and its encoder, per event */
const KINDS = {
  create: ["/tasks/create", "containerd.events.TaskCreate", TaskCreate],
  start: ["/tasks/start", "containerd.events.TaskStart", TaskStart],
  exit: ["/tasks/exit", "containerd.events.TaskExit", TaskExit],
  oom: ["/tasks/oom", "containerd.events.TaskOOM", TaskOOM],
  execAdded: ["/tasks/exec-added", "containerd.events.TaskExecAdded", TaskExecAdded],
  execStarted: ["/tasks/exec-started", "containerd.events.TaskExecStarted", TaskExecStarted],
  paused: ["/tasks/paused", "containerd.events.TaskPaused", TaskPaused],
  resumed: ["/tasks/resumed", "containerd.events.TaskResumed", TaskResumed],
  delete: ["/tasks/delete", "containerd.events.TaskDelete", TaskDelete],
} as const;

export type EventKind = keyof typeof KINDS;
type EventOf<K extends EventKind> = Parameters<(typeof KINDS)[K][2]["fromPartial"]>[0];

export interface PublisherOptions {
  namespace: string;
  ttrpcAddress?: string | undefined;
  publishBinary?: string | undefined;
  containerdAddress?: string | undefined;
  /** ms between retries of a failed event; the n-th retry waits n times this */
  retryMs?: number;
  retries?: number;
}

interface Item {
  topic: string;
  event: Any;
  timestamp: ReturnType<typeof nowTimestamp>;
}

export class Publisher {
  private queue: Item[] = [];
  private running = false;
  private idle: (() => void)[] = [];
  private client: TtrpcClient | undefined;

  constructor(private readonly o: PublisherOptions) {
    if (o.ttrpcAddress) this.client = new TtrpcClient(o.ttrpcAddress.replace(/^unix:\/\//, ""));
  }

  publish<K extends EventKind>(kind: K, event: EventOf<K>): void {
    const [topic, typeUrl, codec] = KINDS[kind] as unknown as [string, string, Codec<unknown>];
    const value = codec.encode(codec.fromPartial(event as object)).finish();
    this.queue.push({ topic, event: { typeUrl, value }, timestamp: nowTimestamp() });
    shimLog.debug("event", { topic });
    if (!this.running) void this.drain();
  }

  /** Resolves once every queued event went out (or was given up), or after timeoutMs. */
  flush(timeoutMs: number): Promise<void> {
    if (!this.running && !this.queue.length) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(resolve, timeoutMs);
      this.idle.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  close(): void {
    this.client?.close();
  }

  private async drain(): Promise<void> {
    this.running = true;
    while (this.queue.length) {
      const item = this.queue[0]!;
      const retries = this.o.retries ?? 5;
      for (let attempt = 0; ; attempt++) {
        try {
          await this.send(item);
          break;
        } catch (err) {
          if (attempt >= retries) {
            shimLog.error("giving up on an event", { topic: item.topic, error: (err as Error).message });
            break;
          }
          shimLog.warn("publishing an event failed; retrying", { topic: item.topic, error: (err as Error).message });
          await new Promise((r) => setTimeout(r, (attempt + 1) * (this.o.retryMs ?? 1000)));
        }
      }
      this.queue.shift();
    }
    this.running = false;
    for (const f of this.idle.splice(0)) f();
  }

  private async send(item: Item): Promise<void> {
    if (this.client) {
      const req = ForwardRequest.encode({ envelope: Envelope.fromPartial({ timestamp: item.timestamp, namespace: this.o.namespace, topic: item.topic, event: item.event }) }).finish();
      await this.client.call(EVENTS_SERVICE, "Forward", req, 5000);
      return;
    }
    if (!this.o.publishBinary) throw new Error("neither TTRPC_ADDRESS nor -publish-binary is set: no way to publish events");
    const args = [...(this.o.containerdAddress ? ["--address", this.o.containerdAddress] : []), "publish", "--topic", item.topic, "--namespace", this.o.namespace];
    const r = spawnSync(this.o.publishBinary, args, { input: Any.encode(item.event).finish(), stdio: ["pipe", "ignore", "pipe"], timeout: 10_000 });
    if (r.error) throw r.error;
    if (r.status !== 0) throw new Error(`${this.o.publishBinary} publish: exit status ${r.status}: ${String(r.stderr ?? "").trim()}`);
  }
}
