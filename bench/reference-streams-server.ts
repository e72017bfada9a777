/**
 * The peer for `bench/streams.bench.ts`: the Node reference server of Durable Streams
 * (`@durable-streams/server`, in-memory store), alone in its own process on the given port.
 */
import { DurableStreamTestServer } from "@durable-streams/server";

const port = Number(process.argv[2] ?? 0);
const server = new DurableStreamTestServer({ port, host: "127.0.0.1", longPollTimeout: 20_000, compression: false });
const url = await server.start();
console.log(`READY ${url}`);
process.on("SIGTERM", () => void server.stop().then(() => process.exit(0)));
