/** What a benchmark reports: one row per figure. */
export interface Figure {
  name: string;
  value: number;
  unit: string;
  note?: string;
}

export type Bench = () => Promise<Figure[]>;

/** The q-quantile (0..1) of `samples`, by nearest rank. */
export function quantile(samples: number[], q: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** Opens a WebSocket from Node and resolves once it is open. */
export function openSocket(url: string): Promise<WebSocket> {
  return new Promise((done, fail) => {
    const ws = new WebSocket(url);
    ws.addEventListener("open", () => done(ws), { once: true });
    ws.addEventListener("error", () => fail(new Error(`cannot open ${url}`)), { once: true });
  });
}
