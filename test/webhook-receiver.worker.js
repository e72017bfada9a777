/**
 * A webhook receiver for the scheduler's workerd tests: an auxiliary Worker that receives
 * every outbound fetch of the Worker under test (miniflare `outboundService`), as the internet
 * would. It records each request and answers as the URL asks:
 *   POST <any url>?respond=500,429,200   answers 500, then 429, then 200 (the last repeats);
 *   POST <any url>?redirect=<url>         answers 307 to <url>;
 *   POST <any url>?delay=3000,0           holds the first answer 3 s, then answers at once;
 *   POST <any url>?done=true              answers 200 with {"done":true} (a stream webhook's
 *                                         "handled it all" reply).
 * The tests read what arrived through the RECEIVER service binding:
 *   GET https://receiver/deliveries?schedule=<id>&count=<n>   waits until n have arrived.
 */
const received = [];

export default {
  async fetch(request) {
    const url = new URL(request.url);
    if (request.method === "GET" && url.pathname === "/deliveries") return deliveries(url);
    const path = url.origin + url.pathname;
    const seen = received.filter((r) => r.path === path).length;
    const body = await request.text();
    received.push({ path, url: request.url, at: Date.now(), headers: Object.fromEntries(request.headers), body });
    const redirect = url.searchParams.get("redirect");
    if (redirect) return new Response(null, { status: 307, headers: { Location: redirect } });
    const plan = (url.searchParams.get("respond") ?? "200").split(",").map(Number);
    const status = plan[Math.min(seen, plan.length - 1)];
    const delays = (url.searchParams.get("delay") ?? "0").split(",").map(Number);
    const delay = delays[Math.min(seen, delays.length - 1)];
    if (delay > 0) await new Promise((done) => setTimeout(done, delay));
    if (status < 300 && url.searchParams.get("done") === "true") return Response.json({ done: true });
    return new Response(status < 300 ? "ok" : "not now", { status });
  },
};

/**
 * Waits by checking every few milliseconds in this request's own context: waking it from the
 * delivering request instead would resolve a promise across requests, which workerd may not run.
 */
async function deliveries(url) {
  const schedule = url.searchParams.get("schedule");
  const path = url.searchParams.get("path");
  const count = Number(url.searchParams.get("count") ?? "1");
  const matching = () => received.filter((r) => (schedule ? r.headers["schedule-id"] === schedule : r.path === path));
  // Answers with what has arrived so far rather than hang past the test's own timeout.
  const deadline = Date.now() + 20_000;
  while (matching().length < count && Date.now() < deadline) await new Promise((done) => setTimeout(done, 10));
  return Response.json(matching());
}
