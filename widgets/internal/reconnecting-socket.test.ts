import { afterEach, describe, expect, inject, it } from "vitest";
import { isTerminalClose } from "../../contract/close-codes.ts";
import type { CounterClientFrame, CounterServerFrame } from "../../contract/counter.ts";
import { ReconnectingSocket, type ConnectionState } from "./reconnecting-socket.ts";

/** Every socket here speaks to a counter, or to nothing. */
type CounterSocket = ReconnectingSocket<CounterServerFrame, CounterClientFrame>;

const endpoint = inject("endpoint");
const wsBase = endpoint.replace(/^http/, "ws");
const sockets: CounterSocket[] = [];

function track(socket: CounterSocket): CounterSocket {
  sockets.push(socket);
  return socket;
}

afterEach(() => {
  for (const socket of sockets.splice(0)) socket.stop();
});

function waitFor<T>(subscribe: (done: (value: T) => void) => void): Promise<T> {
  return new Promise(subscribe);
}

describe("ReconnectingSocket", () => {
  it("holds frames sent before the backend is ready and flushes them once, in order", async () => {
    const name = `queue-${crypto.randomUUID().slice(0, 8)}`;
    let last = 0;
    const reachedThree = waitFor<void>((done) => {
      const socket = track(
        new ReconnectingSocket({
          url: () => `${wsBase}/api/counters/${name}/ws`,
          onFrame: (frame: CounterServerFrame) => {
            if (frame.type !== "error") last = frame.count;
            if (last === 3) done();
          },
        }),
      );
      socket.start();
      for (let i = 0; i < 3; i++) expect(socket.send({ type: "click" })).toBe(true);
      expect(socket.pending).toBe(3);
    });
    await reachedThree;
    const response = await fetch(`${endpoint}/api/counters/${name}`);
    expect(await response.json()).toEqual({ name, count: 3 });
  });

  it("bounds the queue while it cannot connect", () => {
    const socket = track(new ReconnectingSocket({ url: () => "ws://127.0.0.1:9/nothing", onFrame: () => {}, maxQueue: 2 }));
    socket.start();
    expect(socket.send({ type: "click" })).toBe(true);
    expect(socket.send({ type: "click" })).toBe(true);
    expect(socket.send({ type: "click" })).toBe(false);
  });

  it("keeps retrying with backoff, and retries at once when the browser comes back online", async () => {
    const states: ConnectionState[] = [];
    let attempts = 0;
    const socket = track(
      new ReconnectingSocket({
        url: () => {
          attempts += 1;
          return "ws://127.0.0.1:9/nothing";
        },
        onFrame: () => {},
        onState: (state) => states.push(state),
        backoffBaseMs: 60_000,
        backoffMaxMs: 60_000,
      }),
    );
    socket.start();
    await waitFor<void>((done) => {
      const poll = setInterval(() => {
        if (socket.state === "reconnecting") {
          clearInterval(poll);
          done();
        }
      }, 10);
    });
    expect(attempts).toBe(1);
    window.dispatchEvent(new Event("online"));
    expect(attempts).toBe(2);
    expect(states.slice(0, 2)).toEqual(["connecting", "reconnecting"]);
  });

  it("gets its heartbeats answered by a live backend and stays open", async () => {
    const name = `beat-${crypto.randomUUID().slice(0, 8)}`;
    const states: ConnectionState[] = [];
    const socket = track(
      new ReconnectingSocket({
        url: () => `${wsBase}/api/counters/${name}/ws`,
        onFrame: () => {},
        onState: (state) => states.push(state),
        heartbeatMs: 300,
      }),
    );
    socket.start();
    // An unanswered beat would have dropped the connection, which the states would show.
    await expect.poll(() => socket.pongs, { timeout: 15_000, interval: 50 }).toBeGreaterThanOrEqual(3);
    expect(socket.state).toBe("open");
    expect(states).toEqual(["connecting", "open"]);
  });

  it("treats policy and 44xx closes as final", () => {
    expect(isTerminalClose(1008)).toBe(true);
    expect(isTerminalClose(4401)).toBe(true);
    expect(isTerminalClose(1006)).toBe(false);
    expect(isTerminalClose(1011)).toBe(false);
    expect(isTerminalClose(1009)).toBe(false);
  });
});
