/**
 * `npm run serve` stopped with SIGTERM while a schedule falls due: workerd drains for seconds
 * (here, a long-poll under way), and a delivery it started then could be sent and never
 * recorded. A stop starts no delivery; the restart delivers it, once.
 */
import { afterEach, expect, it } from "vitest";
import { mintStreamToken } from "../../edge/streams/tokens.ts";
import { startReceiver, verifyDelivery, type Receiver } from "../webhook-receiver.ts";
import { cleanUp, makeDataDir, startServe, STREAMS_SECRET } from "./serve-support.ts";

const SECRET = `whsec_${Buffer.from("serve-stop-test-signing-key-0123").toString("base64")}`;
let receiver: Receiver | undefined;

afterEach(async () => {
  cleanUp();
  await receiver?.close();
});

it("delivers a schedule that fell due while serve was stopping exactly once, after the restart", async () => {
  receiver = await startReceiver();
  const dataDir = makeDataDir();
  const env = {
    SCHEDULE_TARGETS: JSON.stringify({ inbox: `${receiver.url}/inbox` }),
    SERVE_ALLOW_PRIVATE_OUTBOUND: "127.0.0.1/32",
    WEBHOOK_SIGNING_SECRET: SECRET,
    STREAMS_LONG_POLL_MS: "6000",
  };
  const first = await startServe({ dataDir, env });
  const at = Date.now() + 2_500;
  const created = await fetch(`${first.url}/api/schedules`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ target: "inbox", at: new Date(at).toISOString(), payload: { text: "due while stopping" } }),
  });
  expect(created.status).toBe(201);
  const { id, manageToken } = (await created.json()) as { id: string; manageToken: string };

  // A long-poll under way keeps workerd draining past the due time.
  const streamToken = await mintStreamToken(STREAMS_SECRET, { scope: "write" });
  const stream = `${first.url}/v1/stream/serve-stop`;
  expect((await fetch(stream, { method: "PUT", headers: { "Content-Type": "application/json", Authorization: `Bearer ${streamToken}` }, body: "[]" })).status).toBe(201);
  const poll = fetch(`${stream}?offset=now&live=long-poll`, { headers: { Authorization: `Bearer ${streamToken}` } });
  await new Promise((done) => setTimeout(done, 500));
  expect(Date.now()).toBeLessThan(at);
  first.child.kill("SIGTERM");
  expect((await poll).status).toBe(204);
  expect(await first.exited).toBe(0);
  expect(Date.now()).toBeGreaterThan(at);
  expect(receiver.received).toEqual([]);

  const restartedAt = Date.now();
  const second = await startServe({ dataDir, port: first.port, env });
  const [delivery] = await receiver.waitFor(1);
  expect(delivery!.at).toBeGreaterThanOrEqual(restartedAt);
  expect(verifyDelivery(delivery!, SECRET)).toEqual({ text: "due while stopping" });
  const manage = { headers: { Authorization: `Bearer ${manageToken}` } };
  await expect
    .poll(async () => ((await (await fetch(`${second.url}/api/schedules/${id}`, manage)).json()) as { state: string }).state, { timeout: 10_000 })
    .toBe("done");
  const { runs } = (await (await fetch(`${second.url}/api/schedules/${id}/runs`, manage)).json()) as { runs: { ok: boolean }[] };
  expect(runs).toEqual([expect.objectContaining({ ok: true })]);
  expect(receiver.received).toHaveLength(1);
});
