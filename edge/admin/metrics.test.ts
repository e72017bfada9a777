import { env, exports } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { BASE, openSocket, ofType } from "../../test/edge/support.ts";
import type { Counter } from "../counter/counter.ts";
import { Figures, Metrics, prometheusText } from "./metrics.ts";

const ADMIN = { Authorization: "Bearer test-admin-token" };

const metricsObject = () => env.ADMIN_METRICS.getByName("all");

/** Pushes whatever the objects hold now instead of waiting for their timers. */
async function pushNow(stub: DurableObjectStub<Counter>): Promise<void> {
  await runInDurableObject(stub, async (instance) => {
    // The figures are the object's own; a test reaches in only to skip the wait for its timer.
    await (instance as unknown as { figures: Figures }).figures.push();
  });
}

async function report() {
  const response = await exports.default.fetch(`${BASE}/api/admin/metrics`, { headers: ADMIN });
  expect(response.status).toBe(200);
  return (await response.json()) as { open: Record<string, number>; totals: Record<string, number>; minutes: { counts: Record<string, number> }[] };
}

describe("the figures", () => {
  it("count clicks, and add them up across objects in one Metrics object", async () => {
    const before = (await report()).totals.clicks ?? 0;
    for (const name of ["metrics-a", "metrics-b"]) {
      const socket = await openSocket(`/api/counters/${name}/ws`, { "CF-Connecting-IP": `2001:db8::${name.length}${name.at(-1) === "a" ? 1 : 2}` });
      await socket.next(ofType("ready"));
      socket.ws.send(JSON.stringify({ type: "click" }));
      await socket.next(ofType("count"));
      await pushNow(env.COUNTER.getByName(name));
      socket.ws.close();
    }
    expect((await report()).totals.clicks).toBe(before + 2);
  });

  it("know how many sockets are open now, by kind", async () => {
    const socket = await openSocket("/api/counters/metrics-open/ws", { "CF-Connecting-IP": "2001:db8::77" });
    await socket.next(ofType("ready"));
    await pushNow(env.COUNTER.getByName("metrics-open"));
    const open = (await report()).open.counters!;
    expect(open).toBeGreaterThanOrEqual(1);
    socket.ws.close();
    await socket.closed;
    await pushNow(env.COUNTER.getByName("metrics-open"));
    expect((await report()).open.counters).toBe(open - 1);
  });

  it("keep per-minute sums of the last hour", async () => {
    await metricsObject().record("test", { appends: 3 }, {});
    const { minutes } = await report();
    expect(minutes.at(-1)!.counts.appends).toBeGreaterThanOrEqual(3);
  });

  it("are written to storage in batches, not per event", async () => {
    const stub = metricsObject();
    await runInDurableObject(stub, async (instance: Metrics, state) => {
      const before = state.storage.kv.get<Record<string, number>>("totals")?.errors ?? 0;
      for (let i = 0; i < 50; i += 1) instance.record(`test-${i}`, { errors: 1 }, {});
      // Not yet written: the write waits for the next batch.
      expect(state.storage.kv.get<Record<string, number>>("totals")?.errors ?? 0).toBe(before);
    });
  });

  it("keep the levels of 30,000 objects with open sockets, each in its own storage entry under Cloudflare's 2 MB per value", async () => {
    // 30,000 pages, each with its own counter open: one reporter each, none a visitor can merge.
    const stub = env.ADMIN_METRICS.getByName(`many-levels-${crypto.randomUUID()}`);
    await runInDurableObject(stub, async (instance: Metrics, state) => {
      for (let i = 0; i < 30_000; i += 1) instance.record(`${"f".repeat(58)}${String(i).padStart(6, "0")}`, {}, { "sockets:counters": 1 });
      (instance as unknown as { write(): void }).write();
      // Local workerd takes larger values than Cloudflare does, so the sizes are checked here.
      const largest = Math.max(...[...state.storage.kv.list()].map(([key, value]) => key.length + JSON.stringify(value).length));
      expect(largest).toBeLessThan(64 * 1024);
      // A change of one object's sockets writes that object's entry, not everyone's.
      instance.record(`${"f".repeat(58)}000000`, {}, { "sockets:counters": 0 });
      (instance as unknown as { write(): void }).write();
    });
    // A fresh instance reads them all back.
    const reread = await runInDurableObject(stub, (_instance: Metrics, state) => new Metrics(state, env).report());
    expect(reread.open.counters).toBe(29_999);
  });

  it("are served in Prometheus's text format with a TYPE line for each metric", async () => {
    const response = await exports.default.fetch(`${BASE}/api/admin/metrics?format=prometheus`, { headers: ADMIN });
    expect(response.headers.get("Content-Type")).toContain("text/plain; version=0.0.4");
    const text = await response.text();
    expect(text).toContain("# TYPE edge_widgets_open_sockets gauge");
    expect(text).toMatch(/^edge_widgets_open_sockets\{kind="counters"\} \d+$/m);
    expect(text).toContain("# TYPE edge_widgets_clicks_total counter");
    expect(text).toMatch(/^edge_widgets_clicks_total \d+$/m);
    const same = await exports.default.fetch(`${BASE}/api/admin/metrics.prom`, { headers: ADMIN });
    expect(await same.text()).toContain("# TYPE edge_widgets_chat_messages_total counter");
  });

  it("count refusals by code", () => {
    const text = prometheusText({ enabled: true, at: "", open: { counters: 0, rooms: 0, feeds: 0 }, perSecond: {}, totals: { "refusals:rate_limited": 4 }, minutes: [] });
    expect(text).toContain('edge_widgets_refusals_total{code="rate_limited"} 4');
  });

  it("escape label values as the text format says, so no name can add lines of its own", () => {
    const code = 'x"} 1\nedge_widgets_errors_total 999\n\\';
    const text = prometheusText({ enabled: true, at: "", open: { counters: 0, rooms: 0, feeds: 0 }, perSecond: {}, totals: { [`refusals:${code}`]: 2 }, minutes: [] });
    expect(text).toContain('edge_widgets_refusals_total{code="x\\"} 1\\nedge_widgets_errors_total 999\\n\\\\"} 2\n');
    expect(text.split("\n").filter((line) => line.startsWith("edge_widgets_errors_total"))).toEqual(["edge_widgets_errors_total 0"]);
  });

  it("are for the admin only", async () => {
    expect((await exports.default.fetch(`${BASE}/api/admin/metrics`)).status).toBe(401);
  });

  it("with METRICS=off, an object counts nothing; on, the same count arrives", async () => {
    const off = new Figures({ ...env, METRICS: "off" }, () => "off-test");
    off.count("refusals:metrics-off-test");
    await off.push();
    expect((await report()).totals).not.toHaveProperty("refusals:metrics-off-test");
    const on = new Figures({ ...env, METRICS: "on" }, () => "on-test");
    on.count("refusals:metrics-on-test");
    await on.push();
    expect((await report()).totals["refusals:metrics-on-test"]).toBe(1);
  });
});
