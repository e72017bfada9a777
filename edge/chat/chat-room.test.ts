import { env, exports } from "cloudflare:workers";
import { SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { BASE, ofType, openSocket, type TestSocket } from "../../test/edge/support.ts";
import type { ChatMessage, Person } from "../../contract/chat.ts";

// The edge test project keeps 40 messages per room and sends 20 on join (vitest.config.ts).
const RETENTION = 40;
const JOIN_HISTORY = 20;
const ADMIN = { Authorization: "Bearer test-admin-token" };

let ipCounter = 0;
const freshIp = () => `198.51.${Math.floor(++ipCounter / 250)}.${(ipCounter % 250) + 1}`;
const roomName = (label: string) => `${label}-${crypto.randomUUID().slice(0, 8)}`;
const get = (path: string, init?: RequestInit) => exports.default.fetch(`${BASE}${path}`, init);

interface Join {
  name?: string;
  ip?: string;
  session?: string;
  after?: number;
  token?: string;
}

interface History {
  resumed: boolean;
  messages: ChatMessage[];
  hasMore?: boolean;
  deleted: number[];
}

async function join(room: string, options: Join = {}): Promise<TestSocket> {
  const query = new URLSearchParams();
  if (options.token === undefined) query.set("name", options.name ?? "Ann");
  if (options.session) query.set("session", options.session);
  if (options.after !== undefined) query.set("after", String(options.after));
  if (options.token) query.set("identify", "1");
  const socket = await openSocket(`/api/rooms/${room}/ws?${query}`, { "CF-Connecting-IP": options.ip ?? freshIp() });
  if (options.token) socket.ws.send(JSON.stringify({ type: "identify", token: options.token }));
  return socket;
}

let sent = 0;
/** Sends a message and resolves with the room's acknowledgement. */
async function say(socket: TestSocket, text: string, id = `m${++sent}-${crypto.randomUUID().slice(0, 6)}`): Promise<ChatMessage> {
  socket.ws.send(JSON.stringify({ type: "send", id, text }));
  const ack = await socket.next<{ message: ChatMessage }>((f) => f.type === "ack" && f.ref === id);
  return ack.message;
}

/** Fills a room with `count` messages, from several IPs so no rate limit gets in the way. */
async function fill(room: string, count: number): Promise<ChatMessage[]> {
  const out: ChatMessage[] = [];
  let socket: TestSocket | undefined;
  for (let i = 0; i < count; i++) {
    if (i % 8 === 0) {
      socket?.ws.close(1000);
      socket = await join(room, { name: `filler${i}` });
      await socket.next(ofType("ready"));
    }
    out.push(await say(socket!, `message ${i + 1}`));
  }
  socket?.ws.close(1000);
  return out;
}

/** A presence frame that names `name` among those who joined or left. */
const announcing = (change: "joined" | "left", name: string) => (frame: Record<string, unknown>) =>
  frame.type === "presence" && ((frame[change] ?? []) as { name: string }[]).some((p) => p.name === name);

/** A presence or roster frame saying `count` people are here: what the room says last converges to it. */
const counting = (count: number) => (frame: Record<string, unknown>) => (frame.type === "presence" || frame.type === "roster") && frame.count === count;

/** Signs an identity as the host site does (README); `aud: undefined` leaves the audience out. */
const sign = (claims: Record<string, unknown>, secret = "test-chat-identity-secret", expiresIn: string | number | null = "10m") => {
  const jwt = new SignJWT({ aud: "edge-widgets:chat-identity", ...claims }).setProtectedHeader({ alg: "HS256" });
  if (expiresIn !== null) jwt.setExpirationTime(expiresIn);
  return jwt.sign(new TextEncoder().encode(secret));
};

describe("joining a room", () => {
  const outcome = (socket: TestSocket) => Promise.race([socket.closed, socket.next(ofType("ready")).then(() => "ready" as const)]);

  it("refuses a join past the IP's join rate with 1013 and when to retry, sending it nothing of the room", async () => {
    // The default join rate: a burst of 20, then one a second. Each socket closes before the
    // next opens, so the socket cap never gets in the way.
    const ip = freshIp();
    const room = roomName("join-rate");
    let refused: { socket: TestSocket; closed: { code: number; reason: string } } | undefined;
    for (let attempt = 0; attempt < 40 && !refused; attempt++) {
      const socket = await join(room, { ip });
      const result = await outcome(socket);
      if (result !== "ready") refused = { socket, closed: result };
      socket.ws.close(1000);
      await socket.closed;
    }
    expect(refused?.closed).toMatchObject({ code: 1013, reason: expect.stringMatching(/too many joins; retry in \d+ s/) });
    expect(await Promise.race([refused!.socket.next(), "nothing"])).toBe("nothing");
  });

  it("refuses the socket past SOCKETS_PER_IP with 1013, sending it nothing of the room", async () => {
    // The edge tests allow 6 at once per IP and route (SOCKETS_PER_IP in vitest.config.ts).
    const ip = freshIp();
    const room = roomName("socket-cap");
    const held = await Promise.all([1, 2, 3, 4, 5, 6].map((n) => join(room, { ip, name: `P${n}` })));
    for (const socket of held) expect(await outcome(socket)).toBe("ready");
    const refused = await join(room, { ip, name: "P7" });
    expect(await outcome(refused)).toMatchObject({ code: 1013, reason: expect.stringContaining("too many connections") });
    expect(await Promise.race([refused.next(), "nothing"])).toBe("nothing");
  });

  it("sends the history, then the roster, then ready", async () => {
    const room = roomName("order");
    const socket = await join(room, { name: "Ann" });
    const first = await socket.next();
    const second = await socket.next();
    const third = await socket.next();
    expect(first).toMatchObject({ type: "history", resumed: false, messages: [], hasMore: false });
    expect(second).toEqual({ type: "roster", count: 1, people: [{ name: "Ann", verified: false }] });
    expect(third).toMatchObject({ type: "ready", you: { name: "Ann", verified: false }, limits: { maxTextChars: 2000, maxNameChars: 32 } });
  });

  it("gets only the latest messages of a long history, oldest first, with more to page", async () => {
    const room = roomName("latest");
    const all = await fill(room, JOIN_HISTORY + 5);
    const socket = await join(room);
    const history = await socket.next<History>(ofType("history"));
    expect(history.messages.map((m) => m.text)).toEqual(all.slice(-JOIN_HISTORY).map((m) => m.text));
    expect(history.hasMore).toBe(true);
  });

  it("refuses a plain HTTP request with 426 and a bad room name with 400", async () => {
    expect((await get("/api/rooms/lobby/ws")).status).toBe(426);
    const bad = await get("/api/rooms/no%20spaces/ws", { headers: { Upgrade: "websocket" } });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: { code: "invalid_name" } });
  });

  it("closes with 4400 when the name is missing, too long or holds control characters", async () => {
    const room = roomName("names");
    for (const query of ["", "?name=", `?name=${"x".repeat(33)}`, "?name=a%07b"]) {
      const socket = await openSocket(`/api/rooms/${room}/ws${query}`, { "CF-Connecting-IP": freshIp() });
      expect((await socket.closed).code).toBe(4400);
    }
  });

  it("accepts a name of exactly 32 characters, counting an emoji as one", async () => {
    const name = `${"é".repeat(31)}🙂`;
    const socket = await join(roomName("long-name"), { name });
    expect(await socket.next(ofType("ready"))).toMatchObject({ you: { name } });
  });
});

describe("messages", () => {
  it("stores a message with a server id, server time, sender name and the client id, and sends it to everyone", async () => {
    const room = roomName("live");
    const ann = await join(room, { name: "Ann" });
    const bob = await join(room, { name: "Bob" });
    await Promise.all([ann.next(ofType("ready")), bob.next(ofType("ready"))]);
    const before = Date.now();
    const acked = await say(ann, "hello", "client-id-1");
    expect(acked).toMatchObject({ clientId: "client-id-1", name: "Ann", text: "hello", verified: false });
    expect(acked.id).toBeGreaterThan(0);
    expect(acked.at).toBeGreaterThanOrEqual(before);
    expect(await bob.next(ofType("message"))).toEqual({ type: "message", message: acked });
  });

  it("delivers messages sent at the same moment from many people to everyone, in id order", async () => {
    const room = roomName("together");
    const reader = await join(room, { name: "Reader" });
    await reader.next(ofType("ready"));
    const writers = await Promise.all([1, 2, 3, 4, 5].map((n) => join(room, { name: `W${n}` })));
    await Promise.all(writers.map((w) => w.next(ofType("ready"))));
    const acks = await Promise.all(writers.map((w, n) => say(w, `together ${n}`)));
    const received: ChatMessage[] = [];
    while (received.length < acks.length) {
      const frame = await reader.next<{ type: string; message?: ChatMessage; messages?: ChatMessage[] }>((f) => f.type === "message" || f.type === "messages");
      received.push(...(frame.messages ?? [frame.message!]));
    }
    expect(received.map((m) => m.id)).toEqual(acks.map((m) => m.id).sort((a, b) => a - b));
  });

  it("never stores a resend with the same client id twice, even after a reconnect", async () => {
    const room = roomName("dedupe");
    const ip = freshIp();
    const first = await join(room, { ip });
    await first.next(ofType("ready"));
    const original = await say(first, "only once", "same-id");
    first.ws.close(1000);
    const again = await join(room, { ip });
    await again.next(ofType("ready"));
    const resent = await say(again, "only once", "same-id");
    expect(resent).toEqual(original);
    const page = (await (await get(`/api/rooms/${room}/messages`)).json()) as { messages: ChatMessage[] };
    expect(page.messages.filter((m) => m.clientId === "same-id")).toHaveLength(1);
  });

  it("keeps only the newest messages past the retention bound", async () => {
    const room = roomName("retention");
    const all = await fill(room, RETENTION + 6);
    const page = (await (await get(`/api/rooms/${room}/messages?limit=200`)).json()) as { messages: ChatMessage[]; hasMore: boolean };
    expect(page.messages.map((m) => m.id)).toEqual(all.slice(-RETENTION).map((m) => m.id));
    expect(page.hasMore).toBe(false);
  });

  it.each([
    ["too long", "x".repeat(2001)],
    ["empty", "   "],
    ["a lone surrogate (not valid UTF-8)", "bad \ud800 text"],
    ["a control character", "bell\u0007"],
  ])("refuses a message that is %s with an error frame naming it", async (_label, text) => {
    const socket = await join(roomName("limits"));
    await socket.next(ofType("ready"));
    socket.ws.send(JSON.stringify({ type: "send", id: "refused-1", text }));
    expect(await socket.next(ofType("error"))).toMatchObject({ code: "invalid_message", ref: "refused-1" });
  });

  it("accepts a message of exactly 2,000 characters with newlines", async () => {
    const socket = await join(roomName("max"));
    await socket.next(ofType("ready"));
    const text = `line one\n${"y".repeat(1991)}`;
    expect((await say(socket, text)).text).toBe(text);
  });

  it("closes the socket on a binary frame and answers garbage with an error frame", async () => {
    const socket = await join(roomName("garbage"));
    await socket.next(ofType("ready"));
    socket.ws.send("{oops");
    expect(await socket.next(ofType("error"))).toMatchObject({ code: "bad_frame" });
    socket.ws.send(JSON.stringify({ type: "shout", text: "hi" }));
    expect(await socket.next(ofType("error"))).toMatchObject({ code: "invalid_message" });
    socket.ws.send(new Uint8Array([1, 2, 3]));
    expect((await socket.closed).code).toBe(1003);
  });

  it("closes the socket with 1009 on a frame over 16 KiB", async () => {
    const socket = await join(roomName("huge"));
    await socket.next(ofType("ready"));
    socket.ws.send(JSON.stringify({ type: "send", id: "huge", text: "z".repeat(17_000) }));
    expect((await socket.closed).code).toBe(1009);
  });

  it("refuses messages past the per-IP burst, saying when to retry, and stores none of them", async () => {
    const room = roomName("rate");
    const socket = await join(room);
    await socket.next(ofType("ready"));
    for (let i = 0; i < 10; i++) await say(socket, `burst ${i}`);
    socket.ws.send(JSON.stringify({ type: "send", id: "one-too-many", text: "over" }));
    const refusal = await socket.next<{ code: string; retryAfterMs: number; ref: string }>(ofType("error"));
    expect(refusal).toMatchObject({ code: "rate_limited", ref: "one-too-many" });
    expect(refusal.retryAfterMs).toBeGreaterThan(0);
    const page = (await (await get(`/api/rooms/${room}/messages`)).json()) as { messages: ChatMessage[] };
    expect(page.messages.map((m) => m.text)).not.toContain("over");
  });
});

describe("history paging", () => {
  it("pages back over HTTP with before and limit, newest last", async () => {
    const room = roomName("paging");
    const all = await fill(room, 12);
    const newest = (await (await get(`/api/rooms/${room}/messages?limit=5`)).json()) as { messages: ChatMessage[]; hasMore: boolean };
    expect(newest.messages.map((m) => m.id)).toEqual(all.slice(7).map((m) => m.id));
    expect(newest.hasMore).toBe(true);
    const older = (await (await get(`/api/rooms/${room}/messages?before=${newest.messages[0]!.id}&limit=5`)).json()) as { messages: ChatMessage[] };
    expect(older.messages.map((m) => m.id)).toEqual(all.slice(2, 7).map((m) => m.id));
  });

  it("refuses a bad before or limit with a 400", async () => {
    for (const query of ["before=abc", "limit=0", "limit=201", "colour=red"]) {
      const response = await get(`/api/rooms/lobby/messages?${query}`);
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ error: { code: "invalid_request" } });
    }
  });

  it("pages back through the socket", async () => {
    const room = roomName("socket-page");
    const all = await fill(room, 10);
    const socket = await join(room);
    await socket.next(ofType("ready"));
    socket.ws.send(JSON.stringify({ type: "history", before: all[6]!.id, limit: 3 }));
    const page = await socket.next<{ messages: ChatMessage[]; hasMore: boolean; before: number }>(ofType("page"));
    expect(page.before).toBe(all[6]!.id);
    expect(page.messages.map((m) => m.text)).toEqual(["message 4", "message 5", "message 6"]);
    expect(page.hasMore).toBe(true);
  });

  it("charges pages through the socket to the same per-IP budget as the HTTP route, and refuses past it", async () => {
    const room = roomName("socket-page-limit");
    await fill(room, 2);
    const ip = freshIp();
    const socket = await join(room, { ip });
    await socket.next(ofType("ready"));
    // The edge tests allow 30 reads at once (chat-read's default); the HTTP route spends them too.
    for (let i = 0; i < 10; i++) expect((await get(`/api/rooms/${room}/messages?limit=1`, { headers: { "CF-Connecting-IP": ip } })).status).toBe(200);
    const asked = 30;
    for (let i = 0; i < asked; i++) socket.ws.send(JSON.stringify({ type: "history", limit: 200, id: `page-${i}` }));
    const answers: Record<string, unknown>[] = [];
    while (answers.length < asked) answers.push(await socket.next((f) => f.type === "page" || f.type === "error"));
    const refusals = answers.filter((f) => f.type === "error");
    expect(refusals.length).toBeGreaterThan(5);
    expect(refusals[0]).toMatchObject({ code: "rate_limited", ref: expect.stringMatching(/^page-/) });
    expect(refusals[0]!.retryAfterMs).toBeGreaterThan(0);
    expect(answers.find((f) => f.type === "page")).toMatchObject({ ref: "page-0" });
  });
});

describe("reconnecting", () => {
  it("gets exactly the messages it missed when it names the last id it saw", async () => {
    const room = roomName("resume");
    const staying = await join(room, { name: "Stays" });
    await staying.next(ofType("ready"));
    const seen = await say(staying, "before the drop");
    const missed = [await say(staying, "missed one"), await say(staying, "missed two")];
    const back = await join(room, { name: "Back", after: seen.id });
    const history = await back.next<History>(ofType("history"));
    expect(history.resumed).toBe(true);
    expect(history.messages).toEqual(missed);
  });

  it("gets the latest messages instead when the id it names is from before the room was reset", async () => {
    const room = roomName("reset");
    const all = await fill(room, 2);
    const back = await join(room, { after: 5000 });
    const history = await back.next<History>(ofType("history"));
    expect(history).toMatchObject({ resumed: false, messages: all });
  });

  it("learns of messages deleted while it was away", async () => {
    const room = roomName("resume-deleted");
    const all = await fill(room, 3);
    await get(`/api/rooms/${room}/messages/${all[0]!.id}`, { method: "DELETE", headers: ADMIN });
    const back = await join(room, { after: all[2]!.id });
    const history = await back.next<History>(ofType("history"));
    expect(history.messages).toEqual([]);
    expect(history.deleted).toContain(all[0]!.id);
  });

  it("keeps its name when the same session reconnects while its old socket lingers", async () => {
    const room = roomName("session");
    const old = await join(room, { name: "Cy", session: "session-1" });
    await old.next(ofType("ready"));
    const again = await join(room, { name: "Cy", session: "session-1" });
    expect(await again.next(ofType("ready"))).toMatchObject({ you: { name: "Cy" } });
    expect((await old.closed).code).toBe(1000);
  });
});

describe("presence and typing", () => {
  it("makes anonymous names unique in the room", async () => {
    const room = roomName("unique");
    const first = await join(room, { name: "Dee" });
    await first.next(ofType("ready"));
    const second = await join(room, { name: "dee" });
    expect(await second.next(ofType("ready"))).toMatchObject({ you: { name: "dee 2" } });
    const third = await join(room, { name: "Dee" });
    expect(await third.next(ofType("ready"))).toMatchObject({ you: { name: "Dee 3" } });
  });

  it("lists who is here and announces joins and leaves", async () => {
    const room = roomName("presence");
    const ann = await join(room, { name: "Ann" });
    await ann.next(ofType("ready"));
    const bob = await join(room, { name: "Bob" });
    expect(await bob.next(ofType("roster"))).toEqual({
      type: "roster",
      count: 2,
      people: [
        { name: "Ann", verified: false },
        { name: "Bob", verified: false },
      ],
    });
    // Ann's own arrival may go out in the same frame.
    expect(await ann.next(announcing("joined", "Bob"))).toMatchObject({ count: 2, joined: expect.arrayContaining([{ name: "Bob", verified: false }]), left: [] });
    bob.ws.close(1000);
    expect(await ann.next(announcing("left", "Bob"))).toEqual({ type: "presence", count: 1, joined: [], left: [{ name: "Bob", verified: false }] });
  });

  it("sends only how many are here once the room holds more people than it lists, and the list again below", async () => {
    // The test config lists at most 6 people.
    const room = roomName("crowd");
    const ann = await join(room, { name: "Ann" });
    await ann.next(ofType("ready"));
    const crowd = await Promise.all(Array.from({ length: 7 }, (_, i) => join(room, { name: `P${i}` })));
    await Promise.all(crowd.map((s) => s.next(ofType("ready"))));
    // Whichever frame crossed the size, from then on: the count, no names.
    const crowded = await ann.next(counting(8));
    expect(Object.keys(crowded).sort()).toEqual(["count", "type"]);
    const late = await join(room, { name: "Late" });
    expect(await late.next(ofType("roster"))).toEqual({ type: "roster", count: 9 });
    for (const s of [late, ...crowd.slice(0, 3)]) s.ws.close(1000);
    // The leaves may span presence intervals: the frame that crosses back below the size is the
    // whole roster, and any leaves after it come as deltas, as a client applies them.
    const back = await ann.next<{ count: number; people: Person[] }>((frame) => frame.type === "roster" && Array.isArray(frame.people) && (frame.count as number) >= 5);
    const here = new Map(back.people.map((p) => [p.name, p]));
    let count = back.count;
    while (count > 5) {
      const below = count;
      const delta = await ann.next<{ count: number; joined: Person[]; left: Person[] }>(
        (frame) => frame.type === "presence" && (frame.left as Person[]).length > 0 && (frame.count as number) < below,
      );
      for (const p of delta.left) here.delete(p.name);
      for (const p of delta.joined) here.set(p.name, p);
      count = delta.count;
    }
    expect(count).toBe(5);
    expect([...here.keys()].sort()).toEqual(["Ann", "P3", "P4", "P5", "P6"]);
  });

  it("passes on typing to the others, at most once per two seconds per person", async () => {
    const room = roomName("typing");
    const ann = await join(room, { name: "Ann" });
    const bob = await join(room, { name: "Bob" });
    await Promise.all([ann.next(ofType("ready")), bob.next(ofType("ready"))]);
    let typingFrames = 0;
    bob.ws.addEventListener("message", (event: MessageEvent) => {
      if (String(event.data).includes('"type":"typing"')) typingFrames += 1;
    });
    for (let i = 0; i < 5; i++) ann.ws.send(JSON.stringify({ type: "typing" }));
    await say(ann, "done typing");
    await bob.next(ofType("message"));
    expect(typingFrames).toBe(1);
    expect(await bob.next(ofType("typing"))).toEqual({ type: "typing", name: "Ann" });
  });

  it("passes on typing again right after the person's message", async () => {
    const room = roomName("typing-again");
    const ann = await join(room, { name: "Ann" });
    const bob = await join(room, { name: "Bob" });
    await Promise.all([ann.next(ofType("ready")), bob.next(ofType("ready"))]);
    ann.ws.send(JSON.stringify({ type: "typing" }));
    await bob.next(ofType("typing"));
    await say(ann, "sent");
    ann.ws.send(JSON.stringify({ type: "typing" }));
    expect(await bob.next(ofType("typing"))).toEqual({ type: "typing", name: "Ann" });
  });

  it("passes on no typing in a room of more people than the typing limit", async () => {
    // The test config shows typing in rooms of at most 4 people.
    const room = roomName("typing-crowd");
    const people = await Promise.all(["Ann", "Bob", "Cleo", "Dee", "Eve"].map((name) => join(room, { name })));
    await Promise.all(people.map((s) => s.next(ofType("ready"))));
    const [ann, bob] = people as [TestSocket, TestSocket];
    let typingFrames = 0;
    bob.ws.addEventListener("message", (event: MessageEvent) => {
      if (String(event.data).includes('"type":"typing"')) typingFrames += 1;
    });
    ann.ws.send(JSON.stringify({ type: "typing" }));
    await say(ann, "no one saw me typing");
    await bob.next(ofType("message"));
    expect(typingFrames).toBe(0);
    // Back at four, typing shows again.
    people[4]!.ws.close(1000);
    await people[4]!.closed;
    ann.ws.send(JSON.stringify({ type: "typing" }));
    expect(await bob.next(ofType("typing"))).toEqual({ type: "typing", name: "Ann" });
  });
});

describe("verified identity", () => {
  it("takes the name from a token the host site signed and marks it verified", async () => {
    const room = roomName("verified");
    const token = await sign({ sub: "user-42", name: "Grace" });
    const socket = await join(room, { token });
    expect(await socket.next(ofType("ready"))).toMatchObject({ you: { name: "Grace", verified: true } });
    expect((await say(socket, "signed")).verified).toBe(true);
  });

  it.each([
    ["signed with another secret", () => sign({ sub: "u", name: "Eve" }, "not-the-secret")],
    ["expired", () => sign({ sub: "u", name: "Eve" }, undefined, Math.floor(Date.now() / 1000) - 60)],
    ["valid for too long", () => sign({ sub: "u", name: "Eve" }, undefined, "30d")],
    ["missing a name", () => sign({ sub: "u" })],
    ["that never expires", () => sign({ sub: "u", name: "Eve" }, undefined, null)],
    ["without an audience, as tokens were signed before", () => sign({ sub: "u", name: "Eve", aud: undefined })],
    ["minted for another use with the same secret", () => sign({ sub: "u", name: "Eve", aud: "edge-widgets:stream" })],
  ])("closes with 4401 for a token %s", async (_label, make) => {
    const socket = await join(roomName("bad-token"), { token: await make() });
    expect((await socket.closed).code).toBe(4401);
  });

  it("says in the close reason what is wrong with the token", async () => {
    const wrongUse = await join(roomName("bad-token"), { token: await sign({ sub: "u", name: "Eve", aud: "edge-widgets:stream" }) });
    expect((await wrongUse.closed).reason).toContain('aud claim must be "edge-widgets:chat-identity"');
    const tooLong = await join(roomName("bad-token"), { token: await sign({ sub: "u", name: "Eve" }, undefined, "30d") });
    expect((await tooLong.closed).reason).toContain("at most 86400 seconds");
  });
});

describe("identifying with a token", () => {
  it("refuses a token in the URL with 4400, saying to send it in the first frame", async () => {
    const token = await sign({ sub: "user-url", name: "Leaky" });
    const socket = await openSocket(`/api/rooms/${roomName("url-token")}/ws?token=${token}`, { "CF-Connecting-IP": freshIp() });
    const closed = await socket.closed;
    expect(closed.code).toBe(4400);
    expect(closed.reason).toMatch(/identify/);
  });

  it("holds a socket that has not identified out of the room: no history, no presence, no sends", async () => {
    const room = roomName("waiting");
    const ann = await join(room, { name: "Ann" });
    await ann.next(ofType("ready"));
    const waiting = await openSocket(`/api/rooms/${room}/ws?identify=1`, { "CF-Connecting-IP": freshIp() });
    waiting.ws.send(JSON.stringify({ type: "send", id: "too-early", text: "hi" }));
    expect(await waiting.next()).toMatchObject({ type: "error", code: "not_identified" });
    waiting.ws.send(JSON.stringify({ type: "history" }));
    expect(await waiting.next()).toMatchObject({ type: "error", code: "not_identified" });
    await say(ann, "not for the waiting socket");
    const people = (await (await get(`/api/rooms/${room}/people`, { headers: ADMIN })).json()) as { people: { name: string }[] };
    expect(people.people.map((p) => p.name)).toEqual(["Ann"]);
    waiting.ws.send(JSON.stringify({ type: "identify", token: await sign({ sub: "user-late", name: "Late" }) }));
    expect(await waiting.next()).toMatchObject({ type: "history", messages: [{ text: "not for the waiting socket" }] });
    expect(await waiting.next(ofType("ready"))).toMatchObject({ you: { name: "Late", verified: true } });
    expect(await ann.next(announcing("joined", "Late"))).toMatchObject({ count: 2, joined: expect.arrayContaining([{ name: "Late", verified: true }]) });
  });

  it("lets two people open the room at once while each is still to identify", async () => {
    const room = roomName("two-waiting");
    const first = await openSocket(`/api/rooms/${room}/ws?identify=1`, { "CF-Connecting-IP": freshIp() });
    const second = await openSocket(`/api/rooms/${room}/ws?identify=1`, { "CF-Connecting-IP": freshIp() });
    first.ws.send(JSON.stringify({ type: "identify", token: await sign({ sub: "user-first", name: "First" }) }));
    second.ws.send(JSON.stringify({ type: "identify", token: await sign({ sub: "user-second", name: "Second" }) }));
    expect(await first.next(ofType("ready"))).toMatchObject({ you: { name: "First", verified: true } });
    expect(await second.next(ofType("ready"))).toMatchObject({ you: { name: "Second", verified: true } });
  });

  it("closes a socket that never identifies with 4401", async () => {
    const waiting = await openSocket(`/api/rooms/${roomName("silent")}/ws?identify=1`, { "CF-Connecting-IP": freshIp() });
    const closed = await waiting.closed;
    expect(closed).toMatchObject({ code: 4401, reason: expect.stringContaining("identify") });
  });
});

describe("moderation", () => {
  it("deletes a message for everyone, live, and keeps it deleted on resend", async () => {
    const room = roomName("delete");
    const ann = await join(room, { name: "Ann" });
    const bob = await join(room, { name: "Bob" });
    await Promise.all([ann.next(ofType("ready")), bob.next(ofType("ready"))]);
    const message = await say(ann, "regrettable", "regret-1");
    const response = await get(`/api/rooms/${room}/messages/${message.id}`, { method: "DELETE", headers: ADMIN });
    expect(response.status).toBe(200);
    expect(await bob.next(ofType("deleted"))).toEqual({ type: "deleted", id: message.id });
    expect(await ann.next(ofType("deleted"))).toEqual({ type: "deleted", id: message.id });
    ann.ws.send(JSON.stringify({ type: "send", id: "regret-1", text: "regrettable" }));
    expect(await ann.next(ofType("ack"))).toMatchObject({ deleted: true });
    const page = (await (await get(`/api/rooms/${room}/messages`)).json()) as { messages: ChatMessage[] };
    expect(page.messages).toEqual([]);
  });

  it("refuses moderation without the admin token", async () => {
    const room = roomName("no-admin");
    const wrong = await get(`/api/rooms/${room}/messages/1`, { method: "DELETE", headers: { Authorization: "Bearer nope" } });
    expect(wrong.status).toBe(401);
    const ban = await get(`/api/rooms/${room}/bans`, { method: "POST", headers: { "Content-Type": "application/json" }, body: '{"ip":"1.2.3.4","seconds":60}' });
    expect(ban.status).toBe(401);
    expect(await ban.json()).toMatchObject({ error: { code: "unauthorized" } });
  });

  it("answers 404 for deleting a message that does not exist", async () => {
    const response = await get(`/api/rooms/${roomName("missing")}/messages/999`, { method: "DELETE", headers: ADMIN });
    expect(response.status).toBe(404);
  });

  it("bans a name: its socket closes with 4403 and it cannot come back until lifted", async () => {
    const room = roomName("ban-name");
    const troll = await join(room, { name: "Troll" });
    await troll.next(ofType("ready"));
    const response = await get(`/api/rooms/${room}/bans`, {
      method: "POST",
      headers: { ...ADMIN, "Content-Type": "application/json" },
      body: JSON.stringify({ name: "troll", seconds: 600, reason: "spam" }),
    });
    expect(response.status).toBe(201);
    const closed = await troll.closed;
    expect(closed.code).toBe(4403);
    expect(closed.reason).toMatch(/banned from this room until .*: spam/);
    expect((await (await join(room, { name: "TROLL" })).closed).code).toBe(4403);
    const list = (await (await get(`/api/rooms/${room}/bans`, { headers: ADMIN })).json()) as { bans: { kind: string; value: string }[] };
    expect(list.bans).toMatchObject([{ kind: "name", value: "troll", reason: "spam" }]);
    expect((await get(`/api/rooms/${room}/bans?name=Troll`, { method: "DELETE", headers: ADMIN })).status).toBe(200);
    expect(await (await join(room, { name: "Troll" })).next(ofType("ready"))).toMatchObject({ you: { name: "Troll" } });
  });

  it("bans an IP whatever name it takes, found through the people list", async () => {
    const room = roomName("ban-ip");
    const ip = freshIp();
    const troll = await join(room, { name: "Sneaky", ip });
    await troll.next(ofType("ready"));
    const people = (await (await get(`/api/rooms/${room}/people`, { headers: ADMIN })).json()) as { people: { name: string; ip: string }[] };
    expect(people.people).toEqual([{ name: "Sneaky", verified: false, ip }]);
    await get(`/api/rooms/${room}/bans`, {
      method: "POST",
      headers: { ...ADMIN, "Content-Type": "application/json" },
      body: JSON.stringify({ ip, seconds: 60 }),
    });
    expect((await troll.closed).code).toBe(4403);
    expect((await (await join(room, { name: "Innocent", ip })).closed).code).toBe(4403);
  });

  it("keeps an IP ban when the visitor rotates CF-Connecting-IP and X-Real-IP where nothing vouches for them", async () => {
    const room = roomName("ban-rotate");
    const unvouched = { CLIENT_IP_HEADER: undefined };
    const from = (n: number) => ({ "CF-Connecting-IP": `203.0.113.${n}`, "X-Real-IP": `198.51.100.${n}` });
    const troll = await openSocket(`/api/rooms/${room}/ws?name=Rotator`, from(1), unvouched);
    await troll.next(ofType("ready"));
    const people = (await (await get(`/api/rooms/${room}/people`, { headers: ADMIN })).json()) as { people: { ip: string }[] };
    await get(`/api/rooms/${room}/bans`, {
      method: "POST",
      headers: { ...ADMIN, "Content-Type": "application/json" },
      body: JSON.stringify({ ip: people.people[0]!.ip, seconds: 60 }),
    });
    expect((await troll.closed).code).toBe(4403);
    const rotated = await openSocket(`/api/rooms/${room}/ws?name=Fresh`, from(2), unvouched);
    const outcome = await Promise.race([rotated.closed.then((closed) => closed.code), rotated.next(ofType("ready")).then(() => "joined")]);
    expect(outcome).toBe(4403);
  });

  it("refuses a ban with both a name and an IP, or none", async () => {
    for (const body of [{ seconds: 60 }, { name: "a", ip: "1.2.3.4", seconds: 60 }]) {
      const response = await get(`/api/rooms/lobby/bans`, { method: "POST", headers: { ...ADMIN, "Content-Type": "application/json" }, body: JSON.stringify(body) });
      expect(response.status).toBe(400);
    }
  });
});

/** An admin call with a JSON body (or raw text, to send what JSON.stringify would not). */
const put = (path: string, body: unknown, headers: Record<string, string> = ADMIN) =>
  get(path, { method: "PUT", headers: { ...headers, "Content-Type": "application/json" }, body: typeof body === "string" ? body : JSON.stringify(body) });

describe("blocked words", () => {
  it("refuses a message holding a room's blocked word as a whole word, in any case or compatibility form, and stores nothing", async () => {
    const room = roomName("blocked");
    const set = await put(`/api/rooms/${room}/blocked-words`, { words: ["Darn", "ＢＡＤ", "not nice"] });
    expect(await set.json()).toEqual({ words: ["darn", "bad", "not nice"] });
    expect(await (await get(`/api/rooms/${room}/blocked-words`, { headers: ADMIN })).json()).toEqual({ words: ["darn", "bad", "not nice"] });
    const ann = await join(room);
    await ann.next(ofType("ready"));
    for (const [i, text] of ["DARN it", "so bad!", "ｂａｄ", "that is NOT   nice"].entries()) {
      ann.ws.send(JSON.stringify({ type: "send", id: `blocked-${i}`, text }));
      expect(await ann.next(ofType("error"))).toMatchObject({ code: "blocked_word", ref: `blocked-${i}`, message: expect.stringMatching(/not allowed/) });
    }
    // Parts of words, and the words of a phrase apart, pass.
    for (const text of ["darning socks", "a badge", "not very nice"]) expect((await say(ann, text)).text).toBe(text);
    const page = (await (await get(`/api/rooms/${room}/messages`)).json()) as { messages: ChatMessage[] };
    expect(page.messages.map((m) => m.text)).toEqual(["darning socks", "a badge", "not very nice"]);
  });

  it("sees through invisible characters put inside a word (zero-width joiner, zero-width space, soft hyphen, word joiner)", async () => {
    const room = roomName("invisible");
    await put(`/api/rooms/${room}/blocked-words`, { words: ["bad"] });
    const ann = await join(room);
    await ann.next(ofType("ready"));
    for (const [i, text] of ["b\u200Dad", "b\u200Bad", "b\u00ADad", "ba\u2060d", "\uFEFFbad\u200C"].entries()) {
      ann.ws.send(JSON.stringify({ type: "send", id: `hidden-${i}`, text }));
      expect(await ann.next(ofType("error")), JSON.stringify(text)).toMatchObject({ code: "blocked_word", ref: `hidden-${i}` });
    }
    // Letters of another script that look the same are other letters: the Cyrillic "а" passes.
    expect((await say(ann, "b\u0430d")).text).toBe("b\u0430d");
  });

  it("refuses in every room a word on the list for all rooms", async () => {
    const word = `zorp${crypto.randomUUID().slice(0, 6)}`;
    const before = (await (await get("/api/chat/blocked-words", { headers: ADMIN })).json()) as { words: string[] };
    expect((await put("/api/chat/blocked-words", { words: [...before.words, word] })).status).toBe(200);
    try {
      // A room that has not read the list yet reads it on its first message.
      const ann = await join(roomName("everywhere"));
      await ann.next(ofType("ready"));
      ann.ws.send(JSON.stringify({ type: "send", id: "global-1", text: `well ${word.toUpperCase()}` }));
      expect(await ann.next(ofType("error"))).toMatchObject({ code: "blocked_word", ref: "global-1" });
    } finally {
      await put("/api/chat/blocked-words", before);
    }
  });

  it("refuses too many words, too long a word, an empty one, a wrong shape and bad JSON with a 400, keeping the list", async () => {
    const room = roomName("hostile-words");
    await put(`/api/rooms/${room}/blocked-words`, { words: ["kept"] });
    const bodies: [unknown, string][] = [
      [{ words: Array.from({ length: 1001 }, (_, i) => `w${i}`) }, "invalid_request"],
      [{ words: ["x".repeat(65)] }, "invalid_request"],
      [{ words: ["!!!"] }, "invalid_request"],
      [{ words: ["a\u0000b"] }, "invalid_request"],
      [{ words: "kept" }, "invalid_request"],
      [{ words: [], extra: 1 }, "invalid_request"],
      ["{\"words\": [", "invalid_json"],
    ];
    for (const [body, code] of bodies) {
      const response = await put(`/api/rooms/${room}/blocked-words`, body);
      expect(response.status, JSON.stringify(body).slice(0, 80)).toBe(400);
      expect(await response.json()).toMatchObject({ error: { code } });
    }
    expect((await put(`/api/rooms/${room}/blocked-words`, "x".repeat(200_000))).status).toBe(413);
    expect(await (await get(`/api/rooms/${room}/blocked-words`, { headers: ADMIN })).json()).toEqual({ words: ["kept"] });
  });

  it("takes 1,000 words of 64 characters", async () => {
    const words = Array.from({ length: 1000 }, (_, i) => `${i}`.padEnd(64, "é"));
    const response = await put(`/api/rooms/${roomName("full-list")}/blocked-words`, { words });
    expect(response.status).toBe(200);
    expect(((await response.json()) as { words: string[] }).words).toHaveLength(1000);
  });

  it("is for the admin only", async () => {
    const room = roomName("words-guard");
    for (const [path, method] of [[`/api/rooms/${room}/blocked-words`, "GET"], [`/api/rooms/${room}/blocked-words`, "PUT"], ["/api/chat/blocked-words", "GET"], ["/api/chat/blocked-words", "PUT"], [`/api/rooms/${room}/slow-mode`, "PUT"]]) {
      expect((await get(path!, { method, headers: { "Content-Type": "application/json" }, body: method === "PUT" ? '{"words":[]}' : undefined })).status).toBe(401);
    }
  });
});

describe("slow mode", () => {
  it("refuses a member's second message within the interval, saying when to retry, and lets others send", async () => {
    const room = roomName("slow");
    expect(await (await put(`/api/rooms/${room}/slow-mode`, { seconds: 30 })).json()).toEqual({ seconds: 30 });
    expect(await (await get(`/api/rooms/${room}/slow-mode`, { headers: ADMIN })).json()).toEqual({ seconds: 30 });
    const ann = await join(room, { name: "Ann", session: "ann-session" });
    const bob = await join(room, { name: "Bob" });
    await Promise.all([ann.next(ofType("ready")), bob.next(ofType("ready"))]);
    await say(ann, "first");
    ann.ws.send(JSON.stringify({ type: "send", id: "too-soon", text: "second" }));
    const refusal = await ann.next<{ retryAfter: number; retryAfterMs: number }>(ofType("error"));
    expect(refusal).toMatchObject({ code: "slow_mode", ref: "too-soon", retryAfter: 30 });
    expect(refusal.retryAfterMs).toBeGreaterThan(29_000);
    await say(bob, "my turn");
    // Reconnecting does not start the wait afresh.
    ann.ws.close(1000);
    const again = await join(room, { name: "Ann", session: "ann-session" });
    await again.next(ofType("ready"));
    again.ws.send(JSON.stringify({ type: "send", id: "after-reconnect", text: "second" }));
    expect(await again.next(ofType("error"))).toMatchObject({ code: "slow_mode", ref: "after-reconnect" });
  });

  it("holds back the address too, so a new session from the same address waits like the old one", async () => {
    const room = roomName("slow-rejoin");
    await put(`/api/rooms/${room}/slow-mode`, { seconds: 30 });
    const ip = freshIp();
    const ann = await join(room, { name: "Ann", session: "first-session", ip });
    await ann.next(ofType("ready"));
    await say(ann, "first");
    ann.ws.close(1000);
    const disguised = await join(room, { name: "Not Ann", session: "another-session", ip });
    await disguised.next(ofType("ready"));
    disguised.ws.send(JSON.stringify({ type: "send", id: "new-session", text: "second" }));
    expect(await disguised.next(ofType("error"))).toMatchObject({ code: "slow_mode", ref: "new-session" });
  });

  it("lets a member send again once the interval is over, and not at all when turned off", async () => {
    const room = roomName("slow-short");
    await put(`/api/rooms/${room}/slow-mode`, { seconds: 1 });
    const ann = await join(room);
    await ann.next(ofType("ready"));
    await say(ann, "one");
    ann.ws.send(JSON.stringify({ type: "send", id: "soon", text: "two" }));
    const refusal = await ann.next<{ retryAfterMs: number }>(ofType("error"));
    await new Promise((done) => setTimeout(done, refusal.retryAfterMs));
    expect((await say(ann, "two", "soon")).text).toBe("two");
    await put(`/api/rooms/${room}/slow-mode`, { seconds: 0 });
    expect((await say(ann, "three")).text).toBe("three");
  });

  it("refuses a negative, fractional, too long or missing interval and bad JSON with a 400", async () => {
    const room = roomName("slow-hostile");
    for (const body of [{ seconds: -1 }, { seconds: 1.5 }, { seconds: 6 * 3600 + 1 }, {}, { seconds: "5" }, "nope"]) {
      const response = await put(`/api/rooms/${room}/slow-mode`, body);
      expect(response.status, JSON.stringify(body)).toBe(400);
    }
    expect(await (await get(`/api/rooms/${room}/slow-mode`, { headers: ADMIN })).json()).toEqual({ seconds: 0 });
  });
});

describe("a reconnect storm", () => {
  it("loses and doubles no message: every client ends with every message once, in order, and presence converges", async () => {
    const room = roomName("storm");
    const clients = 24;
    const senders = 4;
    const perSender = 8;
    const sessions = Array.from({ length: clients }, (_, i) => `storm-${i}`);
    // What each client has seen, by id, as the widget keeps it: resume after the last id seen.
    const seen = sessions.map(() => new Map<number, ChatMessage>());
    const record = (i: number, socket: TestSocket) =>
      socket.ws.addEventListener("message", (event: MessageEvent) => {
        const frame = JSON.parse(String(event.data)) as { type: string; message?: ChatMessage; messages?: ChatMessage[] };
        const got = frame.type === "message" || frame.type === "ack" ? [frame.message!] : frame.type === "messages" || frame.type === "history" ? frame.messages! : [];
        for (const message of got) {
          expect(seen[i]!.has(message.id) && frame.type !== "history" ? `twice: ${message.id}` : "once").toBe("once");
          seen[i]!.set(message.id, message);
        }
      });
    const lastSeen = (i: number) => Math.max(0, ...seen[i]!.keys());
    const connect = async (i: number) => {
      const socket = await join(room, { name: `C${i}`, session: sessions[i], after: seen[i]!.size > 0 ? lastSeen(i) : undefined, ip: `198.18.${i}.1` });
      record(i, socket);
      await socket.next(ofType("ready"));
      return socket;
    };
    const sockets = await Promise.all(sessions.map((_, i) => connect(i)));

    // Senders keep sending, each resending what was not acknowledged on its new socket, while
    // every client but the senders drops and reconnects at once, twice.
    const sent: string[][] = Array.from({ length: senders }, () => []);
    const sending = Array.from({ length: senders }, async (_, s) => {
      for (let n = 0; n < perSender; n++) {
        const id = `storm-${s}-${n}`;
        sent[s]!.push(id);
        await say(sockets[s]!, `message ${s}.${n}`, id);
      }
    });
    for (let round = 0; round < 2; round++) {
      const dropping = sockets.slice(senders);
      for (const socket of dropping) socket.ws.close(4000, "storm");
      const back = await Promise.all(dropping.map((_, j) => connect(senders + j)));
      back.forEach((socket, j) => (sockets[senders + j] = socket));
    }
    await Promise.all(sending);
    const total = senders * perSender;

    // Everyone catches up: live frames, or the resume of their last reconnect.
    const ids = (i: number) => [...seen[i]!.keys()].sort((a, b) => a - b);
    for (let i = 0; i < clients; i++) {
      while (seen[i]!.size < total) await sockets[i]!.next((f) => f.type === "message" || f.type === "messages");
    }
    const everyone = ids(0);
    expect(everyone).toHaveLength(total);
    for (let i = 0; i < clients; i++) expect(ids(i)).toEqual(everyone);
    const byClientId = [...seen[0]!.values()].map((m) => m.clientId);
    expect(new Set(byClientId).size).toBe(total);
    // Each sender's messages in the order it sent them.
    for (let s = 0; s < senders; s++) expect(byClientId.filter((id) => id.startsWith(`storm-${s}-`))).toEqual(sent[s]);

    // Presence settles on everyone being here, once each.
    const watcher = sockets[0]!;
    await watcher.next((f) => (f.type === "presence" || f.type === "roster") && f.count === clients);
    const people = (await (await get(`/api/rooms/${room}/people`, { headers: ADMIN })).json()) as { people: unknown[] };
    expect(people.people).toHaveLength(clients);
  });
});

describe("hibernation", () => {
  it("keeps history in storage when the object is evicted", async () => {
    const room = roomName("evicted");
    const all = await fill(room, 3);
    const { evictDurableObject } = await import("cloudflare:test");
    await evictDurableObject(env.CHAT_ROOMS.getByName(room), { webSockets: "close" });
    const socket = await join(room);
    const history = await socket.next<History>(ofType("history"));
    expect(history.messages).toEqual(all);
  });
});

describe("a room made by an older version", () => {
  it("comes up with its history and bans intact and its schema step recorded", async () => {
    const room = roomName("older");
    const { evictDurableObject, runInDurableObject } = await import("cloudflare:test");
    const stub = env.CHAT_ROOMS.getByName(room);
    // The tables as the constructor made them before schema steps were recorded, with a message and a ban.
    await runInDurableObject(stub, (_, state) => {
      const sql = state.storage.sql;
      for (const table of ["_migrations", "messages", "bans", "room_settings"]) sql.exec(`DROP TABLE ${table}`);
      sql.exec(`
        CREATE TABLE IF NOT EXISTS messages (id INTEGER PRIMARY KEY AUTOINCREMENT, client_id TEXT NOT NULL UNIQUE, name TEXT NOT NULL,
          text TEXT NOT NULL, at INTEGER NOT NULL, verified INTEGER NOT NULL, ip TEXT NOT NULL, deleted INTEGER NOT NULL DEFAULT 0);
        CREATE INDEX IF NOT EXISTS deleted_messages ON messages (id) WHERE deleted = 1;
        CREATE TABLE IF NOT EXISTS bans (kind TEXT NOT NULL, value TEXT NOT NULL, until INTEGER NOT NULL, reason TEXT NOT NULL, PRIMARY KEY (kind, value));
      `);
      sql.exec("INSERT INTO messages (client_id, name, text, at, verified, ip) VALUES ('m-1', 'Ann', 'still here', 1000, 0, '198.51.100.1')");
      sql.exec("INSERT INTO bans (kind, value, until, reason) VALUES ('name', 'mallory', ?, 'spam')", Date.now() + 60_000);
    });
    await evictDurableObject(stub);

    const after = await runInDurableObject(stub, (instance, state) => ({
      page: instance.page(undefined, 10),
      bans: instance.bans().map((ban) => ban.value),
      steps: state.storage.sql.exec<{ version: number }>("SELECT version FROM _migrations").toArray().map((row) => row.version),
    }));
    expect(after.page.messages).toEqual([{ id: 1, clientId: "m-1", name: "Ann", text: "still here", at: 1000, verified: false }]);
    expect(after.bans).toEqual(["mallory"]);
    expect(after.steps).toEqual([1, 2, 3]);
  });
});
