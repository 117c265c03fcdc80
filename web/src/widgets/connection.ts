// One graphql-transport-ws socket per page and (server, key): every widget's operations run on
// it. It connects when the first operation starts and closes when the last one ends, answers the
// server's pings, reconnects with backoff (1 s doubling to 30 s, with jitter) and resubscribes.
// A 4403 close (unknown, revoked or wrong-origin key) is final: the widgets go offline with the
// server's reason.

export type ConnectionState = "connecting" | "live" | "delayed" | "offline";

export interface Sink {
  next(data: Record<string, unknown>): void;
  error(message: string): void;
  complete?(): void;
}

interface Operation {
  id: string;
  query: string;
  variables: Record<string, unknown>;
  sink: Sink;
  once: boolean; // a query: not resent after a reconnect
}

const PROTOCOL = "graphql-transport-ws";
const FIRST_RETRY_MS = 1_000;
const MAX_RETRY_MS = 30_000;
const OFFLINE_AFTER_FAILURES = 3; // failed attempts in a row before "delayed" becomes "offline"
const SILENCE_MS = 60_000; // the server pings idle sockets far more often than this
const LINGER_MS = 1_000; // a widget re-rendered at once keeps the socket
const FORBIDDEN = 4403;
const connections = new Map<string, Connection>();

/** The page's connection to `server` with `key`. */
export function connection(server: string, key: string): Connection {
  const name = `${server}\n${key}`;
  let found = connections.get(name);
  if (!found) {
    found = new Connection(socketUrl(server), key);
    connections.set(name, found);
  }
  return found;
}

/** ws(s)://host/graphql?widget for a server given as its http(s) address. */
export function socketUrl(server: string): string {
  const url = new URL("/graphql", server);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  url.search = "?widget";
  return url.toString();
}

export class Connection {
  state: ConnectionState = "connecting";
  reason = "";
  private socket: WebSocket | null = null;
  private readonly operations = new Map<string, Operation>();
  private readonly listeners = new Set<(state: ConnectionState, reason: string) => void>();
  private nextId = 1;
  private failures = 0;
  private acknowledged = false;
  private everLive = false;
  private refusal: string | null = null; // why the server refused the key (4403): final
  private retry: ReturnType<typeof setTimeout> | null = null;
  private linger: ReturnType<typeof setTimeout> | null = null;
  private silence: ReturnType<typeof setTimeout> | null = null;

  constructor(
    readonly url: string,
    readonly key: string,
  ) {}

  /** Calls `listener` now and on every change of state. Returns the way to stop. */
  watch(listener: (state: ConnectionState, reason: string) => void): () => void {
    this.listeners.add(listener);
    listener(this.state, this.reason);
    return () => this.listeners.delete(listener);
  }

  /** Runs an operation on the socket (a subscription, or a query when `once`). */
  run(query: string, variables: Record<string, unknown>, sink: Sink, once = false): () => void {
    if (this.refusal !== null) {
      sink.error(this.refusal); // refused for good: the page must be reloaded with a valid key
      return () => {};
    }
    const id = String(this.nextId++);
    this.operations.set(id, { id, query, variables, sink, once });
    if (this.linger) clearTimeout(this.linger);
    if (this.acknowledged) this.send({ id, type: "subscribe", payload: { query, variables } });
    else this.open();
    return () => this.stop(id);
  }

  private stop(id: string): void {
    if (!this.operations.delete(id)) return;
    if (this.acknowledged) this.send({ id, type: "complete" });
    if (this.operations.size === 0) {
      this.linger = setTimeout(() => this.close(), LINGER_MS);
    }
  }

  private close(): void {
    if (this.operations.size) return;
    if (this.retry) clearTimeout(this.retry);
    this.retry = null;
    const socket = this.socket;
    this.socket = null;
    this.acknowledged = false;
    socket?.close(1000, "no widget left");
    if (this.silence) clearTimeout(this.silence);
    this.setState("connecting", "");
  }

  private open(): void {
    if (this.socket || this.retry) return;
    let socket: WebSocket;
    try {
      socket = new WebSocket(this.url, PROTOCOL);
    } catch (error) {
      this.fail(`cannot connect: ${String(error)}`);
      return;
    }
    this.socket = socket;
    socket.onopen = () => this.send({ type: "connection_init", payload: { widgetKey: this.key } });
    socket.onmessage = (event) => this.receive(String(event.data));
    socket.onclose = (event) => {
      if (this.socket !== socket) return; // closed on purpose
      this.socket = null;
      this.acknowledged = false;
      if (this.silence) clearTimeout(this.silence);
      if (event.code === FORBIDDEN) this.refused(event.reason || "refused by the server");
      else this.fail(event.reason || `connection lost (${event.code})`);
    };
    this.armSilence();
  }

  private receive(text: string): void {
    this.armSilence();
    let message: { type: string; id?: string; payload?: unknown };
    try {
      message = JSON.parse(text);
    } catch {
      return;
    }
    if (message.type === "ping") this.send({ type: "pong" });
    else if (message.type === "connection_ack") this.acknowledge();
    else if (message.id !== undefined) this.deliver(message.id, message.type, message.payload);
  }

  private acknowledge(): void {
    this.acknowledged = true;
    this.failures = 0;
    this.everLive = true;
    this.setState("live", "");
    for (const operation of [...this.operations.values()]) {
      const { id, query, variables } = operation;
      this.send({ id, type: "subscribe", payload: { query, variables } });
    }
  }

  private deliver(id: string, type: string, payload: unknown): void {
    const operation = this.operations.get(id);
    if (!operation) return;
    if (type === "next") {
      const result = payload as { data?: Record<string, unknown>; errors?: { message: string }[] };
      if (result.errors?.length) operation.sink.error(result.errors[0].message);
      else if (result.data) operation.sink.next(result.data);
    } else if (type === "error") {
      const errors = payload as { message: string }[];
      this.operations.delete(id);
      operation.sink.error(errors?.[0]?.message ?? "refused");
    } else if (type === "complete") {
      this.operations.delete(id);
      operation.sink.complete?.();
    }
  }

  private refused(reason: string): void {
    if (this.retry) clearTimeout(this.retry);
    this.retry = null;
    this.refusal = reason;
    this.setState("offline", reason);
    for (const operation of this.operations.values()) operation.sink.error(reason);
    this.operations.clear();
  }

  private fail(reason: string): void {
    this.failures += 1;
    const shown = this.everLive && this.failures < OFFLINE_AFTER_FAILURES ? "delayed" : "offline";
    this.setState(this.failures === 1 && !this.everLive ? "connecting" : shown, reason);
    for (const [id, operation] of this.operations) {
      if (operation.once) {
        this.operations.delete(id);
        operation.sink.error(reason);
      }
    }
    if (!this.operations.size) return;
    const ceiling = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** (this.failures - 1));
    const delay = ceiling / 2 + Math.random() * (ceiling / 2);
    this.retry = setTimeout(() => {
      this.retry = null;
      if (this.operations.size) this.open();
    }, delay);
  }

  private armSilence(): void {
    if (this.silence) clearTimeout(this.silence);
    // A socket that hears nothing (not even a ping) is dead without knowing it: start over.
    this.silence = setTimeout(() => this.socket?.close(4000, "silent"), SILENCE_MS);
  }

  private send(message: object): void {
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(message));
  }

  private setState(state: ConnectionState, reason: string): void {
    if (state === this.state && reason === this.reason) return;
    this.state = state;
    this.reason = reason;
    for (const listener of this.listeners) listener(state, reason);
  }
}
