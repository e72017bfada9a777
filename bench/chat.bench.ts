/**
 * <edge-chat> backend under load, the way the Edge Chat Demo is measured:
 * - one room with 100 connected clients, 10 of them sending; each sender waits for its own
 *   echo (the room's acknowledgement) before the next send. Deliveries per second count every
 *   message received, summed over all clients; latency is send-to-receive over all receivers;
 * - the same with 500 clients; for each, the time until all clients are ready after joining;
 * - page load to a connected widget showing 100 history messages, in headless Chromium.
 * Every message is stored in SQLite before it is acknowledged or delivered. Rate limits are
 * raised so the limiter admits everything (it is still consulted for every message); each
 * client comes from an IP of its own, so each has its own limiter, as real people do.
 * All of it on both runtimes (bench/runtimes.ts), with the server's CPU per delivery.
 * For a quick look: BENCH_CLIENTS=100 (comma list) and BENCH_PAGE=0 (skip the page loads).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";
import type { Backend } from "../scripts/backend.ts";
import { CHROMIUM_ARGS, findChromium } from "../scripts/chromium.ts";
import { embedding, hostPage } from "../test/e2e/support.ts";
import { cpuMs, quantile, sideBySide, type Figure } from "./figures.ts";
import { RUNTIMES, type Runtime } from "./runtimes.ts";

const SENDERS = 10;
const LOAD_SECONDS = 8;
const PAGE_LOADS = 10;
const UNLIMITED = { burst: 1e9, perSecond: 1e9 };

export default async function chat(): Promise<Figure[]> {
  const [dev, serve] = [await onRuntime(RUNTIMES[0]!), await onRuntime(RUNTIMES[1]!)];
  return sideBySide(dev, serve);
}

async function onRuntime(runtime: Runtime): Promise<Figure[]> {
  const state = mkdtempSync(join(tmpdir(), "bench-chat-"));
  const backend = await runtime.start({
    persistTo: state,
    vars: {
      RATE_LIMITS: JSON.stringify({ "chat-message": UNLIMITED, "chat-join": UNLIMITED, "chat-read": UNLIMITED }),
      // Each simulated client names its own address, as a proxy in front would.
      CLIENT_IP_HEADER: "CF-Connecting-IP",
    },
  });
  try {
    const figures: Figure[] = [];
    for (const clients of (process.env.BENCH_CLIENTS ?? "100,500").split(",").map(Number)) figures.push(...(await fanOut(backend, clients)));
    if (process.env.BENCH_PAGE !== "0") figures.push(...(await pageLoad(backend)));
    return figures;
  } finally {
    await backend.stop();
    rmSync(state, { recursive: true, force: true });
  }
}

/**
 * Opens a socket as client number `n`, from an IP of its own (as `CF-Connecting-IP` says), so
 * each client has its own rate limiter, as real people do.
 */
export function openFrom(url: string, n: number): Promise<WebSocket> {
  const ip = `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
  // Node's WebSocket takes request headers as a non-standard option.
  const init = { headers: { "CF-Connecting-IP": ip } } as unknown as string[];
  return new Promise((done, fail) => {
    const ws = new WebSocket(url, init);
    ws.addEventListener("open", () => done(ws), { once: true });
    ws.addEventListener("error", () => fail(new Error(`cannot open ${url}`)), { once: true });
  });
}

/** Opens `count` sockets to `room`, each resolved once the room says it is ready. */
async function joinRoom(backend: Backend, room: string, count: number, label: string): Promise<WebSocket[]> {
  const sockets: WebSocket[] = [];
  // In batches, so the joins do not all land on the object in the same instant.
  for (let i = 0; i < count; i += 50) {
    const batch = Array.from({ length: Math.min(50, count - i) }, async (_, j) => {
      const ws = await openFrom(`${backend.url.replace("http", "ws")}/api/rooms/${room}/ws?name=${label}${i + j}`, i + j);
      await new Promise<void>((done) => {
        const onReady = (event: MessageEvent) => {
          if (String(event.data).startsWith('{"type":"ready"')) {
            ws.removeEventListener("message", onReady);
            done();
          }
        };
        ws.addEventListener("message", onReady);
      });
      return ws;
    });
    sockets.push(...(await Promise.all(batch)));
  }
  return sockets;
}

export async function fanOut(backend: Backend, clients: number): Promise<Figure[]> {
  const room = `bench-${clients}`;
  const joinStarted = performance.now();
  const sockets = await joinRoom(backend, room, clients, "c");
  const joinSeconds = (performance.now() - joinStarted) / 1000;
  const sentAt = new Map<string, number>();
  const latencies: number[] = [];
  let deliveries = 0;
  let measuring = false;
  const echoWaiters = new Map<string, () => void>();
  const CLIENT_ID = /"clientId":"([^"]+)"/g;

  for (const ws of sockets) {
    ws.addEventListener("message", (event) => {
      const text = String(event.data);
      const at = performance.now();
      // A frame holds one message, or several stored in the same instant.
      for (const [, id] of text.matchAll(CLIENT_ID)) {
        if (measuring) {
          deliveries += 1;
          const started = sentAt.get(id!);
          if (started !== undefined) latencies.push(at - started);
        }
        if (text.startsWith('{"type":"ack"')) echoWaiters.get(id!)?.();
      }
    });
  }

  const send = (ws: WebSocket, id: string) =>
    new Promise<void>((done) => {
      echoWaiters.set(id, () => {
        echoWaiters.delete(id);
        done();
      });
      sentAt.set(id, performance.now());
      ws.send(`{"type":"send","id":"${id}","text":"hello from ${id}"}`);
    });

  // Warm up: the object, its SQLite file and the limiter.
  for (let i = 0; i < 20; i++) await send(sockets[i % SENDERS]!, `warm-${clients}-${i}`);

  measuring = true;
  const cpuBefore = cpuMs(backend.process.pid!);
  const started = performance.now();
  const deadline = started + LOAD_SECONDS * 1000;
  let sent = 0;
  await Promise.all(
    sockets.slice(0, SENDERS).map(async (ws, s) => {
      for (let n = 0; performance.now() < deadline; n++) {
        await send(ws, `s${clients}-${s}-${n}`);
        sent += 1;
      }
    }),
  );
  // Let the last broadcasts reach everyone before the clock stops.
  const expected = sent * clients;
  while (deliveries < expected && performance.now() < deadline + 5000) await new Promise((done) => setTimeout(done, 5));
  const seconds = (performance.now() - started) / 1000;
  const cpu = cpuMs(backend.process.pid!) - cpuBefore;
  measuring = false;
  for (const ws of sockets) ws.close();

  const note = `${clients} clients, ${SENDERS} senders waiting for their echo`;
  return [
    { name: `all ${clients} clients ready`, value: round(joinSeconds), unit: "s", note: "joined 50 at a time, each waiting for ready" },
    { name: `deliveries per second (${clients} clients)`, value: Math.round(deliveries / seconds), unit: "msg/s", note },
    { name: `messages stored per second (${clients} clients)`, value: Math.round(sent / seconds), unit: "msg/s", note: "each persisted before delivery" },
    { name: `send-to-receive p50 (${clients} clients)`, value: round(quantile(latencies, 0.5)), unit: "ms", note: `${latencies.length} deliveries` },
    { name: `send-to-receive p99 (${clients} clients)`, value: round(quantile(latencies, 0.99)), unit: "ms", note },
    { name: `CPU per delivery (${clients} clients)`, value: Math.round((cpu / deliveries) * 1000), unit: "µs", note: "every process of the backend" },
  ];
}

async function pageLoad(backend: Backend): Promise<Figure[]> {
  const room = "bench-page";
  const [seeder] = await joinRoom(backend, room, 1, "seeder");
  await new Promise<void>((done) => {
    let acked = 0;
    seeder!.addEventListener("message", (event) => {
      if (String(event.data).startsWith('{"type":"ack"') && ++acked === 100) done();
    });
    for (let i = 1; i <= 100; i++) seeder!.send(`{"type":"send","id":"page-${i}","text":"history message ${i}"}`);
  });
  seeder!.close();

  const host = await hostPage(embedding(backend.url, `<edge-chat room="${room}" name="Visitor"></edge-chat>`));
  const executablePath = findChromium();
  if (!executablePath) throw new Error("no Chromium found (set CHROME_PATH)");
  const browser = await chromium.launch({ executablePath, args: CHROMIUM_ARGS, headless: true });
  const times: number[] = [];
  try {
    for (let i = 0; i < PAGE_LOADS + 1; i++) {
      // A new context each time: a first visit, nothing cached.
      const context = await browser.newContext();
      const page = await context.newPage();
      await page.goto(host.url, { waitUntil: "commit" });
      const handle = await page.waitForFunction(
        () => {
          const chat = document.querySelector("edge-chat");
          const shown = chat?.shadowRoot?.querySelectorAll("[part~=message]").length ?? 0;
          return chat?.getAttribute("connection") === "open" && shown === 100 ? performance.now() : false;
        },
        undefined,
        { polling: "raf", timeout: 30_000 },
      );
      // The first load also starts the browser's network stack: not counted.
      if (i > 0) times.push((await handle.jsonValue()) as number);
      await context.close();
    }
  } finally {
    await browser.close();
    await host.close();
  }
  const note = `headless Chromium, fresh context, ${PAGE_LOADS} loads`;
  return [
    { name: "page load to widget with 100 messages, p50", value: round(quantile(times, 0.5)), unit: "ms", note },
    { name: "page load to widget with 100 messages, max", value: round(Math.max(...times)), unit: "ms", note },
  ];
}

const round = (value: number) => Math.round(value * 10) / 10;
