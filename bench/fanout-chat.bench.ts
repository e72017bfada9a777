/**
 * One chat room of 2,000 members (BENCH_MEMBERS), 10 of them sending, each waiting for its own
 * acknowledgement before the next send, as bench/chat.bench.ts does:
 * - the time until all members are ready on a first join (in batches of 50, as chat.bench.ts);
 * - deliveries per second and send-to-receive p50/p99 over LOAD_SECONDS;
 * - then the backend restarts on the same data directory while the senders keep sending: the
 *   time until every member is ready again (from the new backend answering, and from the stop),
 *   every member reconnecting at once with its session and the last id it saw, as
 *   `<edge-chat>` does; and whether any member lost or got twice any message: after the storm,
 *   every member must hold every stored message exactly once, in id order.
 * The per-IP caps are not what is measured: by default every member shares one IP whose socket
 * cap (SOCKETS_PER_IP) and rate limits are raised past the load, so one limiter object is asked
 * for every join and message. BENCH_IPS=each gives every member an IP of its own through the
 * trusted client-IP header (CLIENT_IP_HEADER), as real visitors have: then each join also wakes
 * (or first creates) a limiter object of its own, which on one machine costs more than the join.
 * Both runtimes (BENCH_RUNTIMES=serve for plain workerd only).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Backend } from "../scripts/backend.ts";
import type { ChatMessage } from "../contract/chat.ts";
import { openFrom } from "./chat.bench.ts";
import { cpuMs, quantile, type Figure } from "./figures.ts";
import { RUNTIMES, type Runtime } from "./runtimes.ts";

const MEMBERS = Number(process.env.BENCH_MEMBERS ?? 2000);
const SENDERS = 10;
const LOAD_SECONDS = 8;
const UNLIMITED = { burst: 1e9, perSecond: 1e9 };
const OWN_IPS = process.env.BENCH_IPS === "each";
const VARS = {
  RATE_LIMITS: JSON.stringify({ "chat-message": UNLIMITED, "chat-join": UNLIMITED, "chat-read": UNLIMITED }),
  // Four per member: a restart can leave the old sockets' slots held until the limiter prunes them.
  ...(OWN_IPS ? { CLIENT_IP_HEADER: "CF-Connecting-IP" } : { SOCKETS_PER_IP: String(MEMBERS * 4) }),
};

export default async function fanoutChat(): Promise<Figure[]> {
  const wanted = (process.env.BENCH_RUNTIMES ?? "wrangler dev,serve").split(",");
  const figures: Figure[] = [];
  for (const runtime of RUNTIMES.filter((r) => wanted.includes(r.name))) {
    for (const figure of await onRuntime(runtime)) figures.push({ ...figure, name: `${figure.name} (${runtime.name})` });
  }
  return figures;
}

/**
 * A member as `<edge-chat>` behaves: one session for its life, reconnecting with the last id it
 * saw, keeping every message by id, and (for a sender) sending again what was not acknowledged.
 */
class Member {
  ws: WebSocket | undefined;
  readonly seen = new Map<number, ChatMessage>();
  /** Any message received a second time, live or in a resume (an ack of a resend is the documented exception): must stay 0. */
  doubles = 0;
  /** Any message received with an id below one already received live: must stay 0. */
  outOfOrder = 0;
  private last = 0;
  private unacked: { id: string; text: string } | undefined;
  private onAck: (() => void) | undefined;
  private ready: (() => void) | undefined;

  readonly n: number;
  private readonly room: string;
  private readonly onDelivery: (message: ChatMessage, at: number) => void;

  constructor(n: number, room: string, onDelivery: (message: ChatMessage, at: number) => void) {
    this.n = n;
    this.room = room;
    this.onDelivery = onDelivery;
  }

  /** Opens a socket on `base` and resolves once the room says ready (retrying a refused open). */
  async connect(base: string): Promise<void> {
    const after = this.last > 0 ? `&after=${this.last}` : "";
    const url = `${base.replace("http", "ws")}/api/rooms/${this.room}/ws?name=m${this.n}&session=member-${this.n}${after}`;
    for (let attempt = 0; ; attempt++) {
      try {
        this.ws = await openFrom(url, this.n);
        break;
      } catch (error) {
        if (attempt > 50) throw error;
        await new Promise((done) => setTimeout(done, 50 + Math.random() * 200));
      }
    }
    const ws = this.ws;
    const isReady = new Promise<void>((done) => (this.ready = done));
    ws.addEventListener("message", (event) => this.onFrame(String(event.data)));
    await isReady;
    // Sent again on the new socket, as the widget does on every ready: the room drops repeats.
    if (this.unacked) ws.send(JSON.stringify({ type: "send", ...this.unacked }));
  }

  private onFrame(text: string): void {
    const at = performance.now();
    // Who is here is nothing this member checks: a crowd's presence frames go unparsed, so the
    // bench's own CPU in a storm is the messages' and not the room's chatter.
    if (text.startsWith('{"type":"presence"') || text.startsWith('{"type":"roster"')) return;
    const frame = JSON.parse(text) as { type: string; message?: ChatMessage; messages?: ChatMessage[]; ref?: string };
    switch (frame.type) {
      case "ready":
        this.ready?.();
        return;
      case "history":
        this.take(frame.messages!, at, false);
        return;
      case "message":
        this.take([frame.message!], at, true);
        return;
      case "ack":
        if (frame.ref === this.unacked?.id) {
          this.unacked = undefined;
          this.onAck?.();
        }
        // Others' messages of the same instant come before it (docs/protocol.md): not an order to
        // check. And the ack of a message resent after a drop may repeat what the resume held.
        this.take([frame.message!], at, false, false);
        return;
      case "messages":
        this.take(frame.messages!, at, true);
    }
  }

  private take(messages: ChatMessage[], at: number, live: boolean, once = true): void {
    for (const message of messages) {
      if (this.seen.has(message.id) && once) this.doubles += 1;
      else if (live && message.id < this.last) this.outOfOrder += 1;
      this.seen.set(message.id, message);
      this.last = Math.max(this.last, message.id);
      this.onDelivery(message, at);
    }
  }

  /** Sends and resolves once acknowledged, on this socket or a later one. */
  send(id: string, text: string): Promise<void> {
    this.unacked = { id, text };
    const acked = new Promise<void>((done) => (this.onAck = done));
    try {
      this.ws?.send(JSON.stringify({ type: "send", id, text }));
    } catch {
      // Closed: it goes again on the next ready.
    }
    return acked;
  }
}

async function onRuntime(runtime: Runtime): Promise<Figure[]> {
  const state = mkdtempSync(join(tmpdir(), "bench-fanout-chat-"));
  let backend: Backend = await runtime.start({ persistTo: state, vars: VARS });
  const room = "fanout";
  const sentAt = new Map<string, number>();
  const latencies: number[] = [];
  let deliveries = 0;
  let measuring = false;
  const onDelivery = (message: ChatMessage, at: number) => {
    if (!measuring) return;
    deliveries += 1;
    const started = sentAt.get(message.clientId);
    if (started !== undefined) latencies.push(at - started);
  };
  const members = Array.from({ length: MEMBERS }, (_, n) => new Member(n, room, onDelivery));
  try {
    // First joins, 50 at a time as chat.bench.ts joins.
    const joinStarted = performance.now();
    for (let i = 0; i < MEMBERS; i += 50) await Promise.all(members.slice(i, i + 50).map((m) => m.connect(backend.url)));
    const joinSeconds = (performance.now() - joinStarted) / 1000;

    let sending = true;
    let sent = 0;
    const senders = members.slice(0, SENDERS).map(async (member, s) => {
      for (let n = 0; sending; n++) {
        const id = `s${s}-${n}`;
        sentAt.set(id, performance.now());
        await member.send(id, `hello ${n} from sender ${s}`);
        sent += 1;
      }
    });

    measuring = true;
    const cpuBefore = cpuMs(backend.process.pid!);
    const loadStarted = performance.now();
    await new Promise((done) => setTimeout(done, LOAD_SECONDS * 1000));
    const loadSeconds = (performance.now() - loadStarted) / 1000;
    const loadDeliveries = deliveries;
    const cpu = cpuMs(backend.process.pid!) - cpuBefore;
    const loadLatencies = [...latencies];
    measuring = false;

    // The restart: every socket drops; the senders keep their unacknowledged message to resend.
    const stopped = performance.now();
    await backend.stop();
    backend = await runtime.start({ persistTo: state, vars: VARS });
    const up = performance.now();
    const stormCpu = cpuMs(backend.process.pid!);
    const clientCpu = process.cpuUsage();
    await Promise.all(members.map((m) => m.connect(backend.url)));
    const allReady = performance.now();
    const stormServerCpu = cpuMs(backend.process.pid!) - stormCpu;
    const { user, system } = process.cpuUsage(clientCpu);

    // A few more messages after the storm, then stop and check every member's copy.
    const sentBefore = sent;
    while (sent < sentBefore + SENDERS * 3) await new Promise((done) => setTimeout(done, 20));
    sending = false;
    await Promise.all(senders);
    const stored = await storedIds(backend, room);
    const deadline = performance.now() + 30_000;
    while (members.some((m) => m.seen.size < stored.length) && performance.now() < deadline) await new Promise((done) => setTimeout(done, 50));
    // In id order, as the widget shows them: the same list as the room's.
    const everything = stored.join();
    const wrong = members.filter((m) => [...m.seen.keys()].sort((a, b) => a - b).join() !== everything);
    const doubles = members.reduce((sum, m) => sum + m.doubles, 0);
    const outOfOrder = members.reduce((sum, m) => sum + m.outOfOrder, 0);
    for (const m of members) m.ws?.close();

    const note = `${MEMBERS} members, ${SENDERS} senders waiting for their ack, ${OWN_IPS ? "an IP each" : "one IP, caps raised"}`;
    return [
      { name: `all ${MEMBERS} ready, first join`, value: round(joinSeconds), unit: "s", note: "batches of 50, as bench/chat.bench.ts" },
      { name: `deliveries per second (${MEMBERS} members)`, value: Math.round(loadDeliveries / loadSeconds), unit: "msg/s", note },
      { name: `send-to-receive p50 (${MEMBERS} members)`, value: round(quantile(loadLatencies, 0.5)), unit: "ms", note: `${loadLatencies.length} deliveries` },
      { name: `send-to-receive p99 (${MEMBERS} members)`, value: round(quantile(loadLatencies, 0.99)), unit: "ms", note },
      { name: `CPU per delivery (${MEMBERS} members)`, value: Math.round((cpu / loadDeliveries) * 1000), unit: "µs", note: "every process of the backend" },
      { name: `all ${MEMBERS} ready again after a restart`, value: round((allReady - up) / 1000), unit: "s", note: "from the new backend answering; all reconnect at once (goal < 15 s)" },
      { name: `backend CPU for the ${MEMBERS} reconnects`, value: round(stormServerCpu / 1000), unit: "s", note: "every process of the backend, while the members reconnected" },
      { name: `bench client CPU for the ${MEMBERS} reconnects`, value: round((user + system) / 1e6), unit: "s", note: "this process: handshakes and frames of all members, on the same cores" },
      { name: `all ${MEMBERS} ready again, from the stop`, value: round((allReady - stopped) / 1000), unit: "s", note: "backend stop and start included" },
      { name: "messages stored", value: stored.length, unit: "msg", note: "over the whole run" },
      { name: "members missing a message or out of order", value: wrong.length, unit: "members", note: "after the storm; must be 0" },
      { name: "messages received twice", value: doubles + outOfOrder, unit: "msg", note: "summed over members, live and resumed; must be 0" },
    ];
  } finally {
    await backend.stop();
    rmSync(state, { recursive: true, force: true });
  }
}

/** Every message id the room holds, oldest first, through the HTTP history route. */
async function storedIds(backend: Backend, room: string): Promise<number[]> {
  const ids: number[] = [];
  let before: number | undefined;
  for (;;) {
    const response = await fetch(`${backend.url}/api/rooms/${room}/messages?limit=200${before ? `&before=${before}` : ""}`, { headers: { "CF-Connecting-IP": "10.255.255.254" } });
    const page = (await response.json()) as { messages: ChatMessage[]; hasMore: boolean };
    ids.unshift(...page.messages.map((m) => m.id));
    if (!page.hasMore || page.messages.length === 0) return ids;
    before = page.messages[0]!.id;
  }
}

const round = (value: number) => Math.round(value * 10) / 10;
