import { afterEach, describe, expect, inject, it } from "vitest";
import "./schedule-form.ts";
import type { ScheduleForm } from "./schedule-form.ts";

const endpoint = inject("endpoint");

function mount(target: string, fields = ""): ScheduleForm {
  const element = document.createElement("schedule-form");
  element.setAttribute("endpoint", endpoint);
  element.setAttribute("target", target);
  element.innerHTML = fields;
  document.body.append(element);
  return element;
}

const part = <T extends HTMLElement = HTMLElement>(element: Element, name: string) =>
  element.shadowRoot!.querySelector<T>(`[part="${name}"]`)!;
const parts = (element: Element, name: string) => [...element.shadowRoot!.querySelectorAll<HTMLElement>(`[part="${name}"]`)];
const status = (element: Element) => part(element, "status").textContent!.trim();

/** The value a datetime-local input takes for `ms` from now, in this browser's zone. */
function localInput(ms: number): string {
  const d = new Date(Date.now() + ms);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

function nextEvent<K extends keyof HTMLElementEventMap>(element: HTMLElement, type: K): Promise<HTMLElementEventMap[K]> {
  return new Promise((done) => element.addEventListener(type, done, { once: true }));
}

async function fill(element: ScheduleForm, when: string, repeat = "none"): Promise<void> {
  await element.updateComplete;
  const select = part<HTMLSelectElement>(element, "repeat");
  select.value = repeat;
  select.dispatchEvent(new Event("change"));
  await element.updateComplete;
  part<HTMLInputElement>(element, "when").value = when;
}

const submit = (element: ScheduleForm) => part<HTMLButtonElement>(element, "submit").click();

async function fetchSchedule(id: string): Promise<Response> {
  const stored = JSON.parse(localStorage.getItem(`schedule-form:${new URL(endpoint).origin}`) ?? "[]") as { id: string; manageToken: string }[];
  const token = stored.find((s) => s.id === id)?.manageToken;
  return fetch(`${endpoint}/api/schedules/${id}`, { headers: { Authorization: `Bearer ${token}` } });
}

afterEach(() => {
  document.body.replaceChildren();
  localStorage.clear();
});

describe("<schedule-form>", () => {
  it("schedules a one-off delivery with the page's fields as its payload and lists it", async () => {
    const element = mount("reminders", `<label>Text <input name="text" value="stretch"></label><input name="count" type="number" value="3"><input name="loud" type="checkbox" checked>`);
    await fill(element, localInput(3_600_000));
    const scheduled = nextEvent(element, "edge-scheduled");
    submit(element);
    const { detail } = await scheduled;
    expect(detail.payload).toEqual({ text: "stretch", count: 3, loud: true });
    expect(status(element)).toMatch(/^Scheduled for /);
    await element.updateComplete;
    const [item] = parts(element, "schedule");
    expect(item!.textContent).toMatch(/Once/);
    expect(item!.textContent).toMatch(/Next: /);
    const view = (await (await fetchSchedule(detail.id)).json()) as { payload: unknown; next: string };
    expect(view.payload).toEqual({ text: "stretch", count: 3, loud: true });
    expect(view.next).toBe(detail.next);
  });

  it("says which page field is missing instead of scheduling", async () => {
    const element = mount("reminders", `<label>Text <input name="text" required></label>`);
    await fill(element, localInput(3_600_000));
    submit(element);
    await element.updateComplete;
    expect(status(element)).toMatch(/Check “Text”/);
    expect(parts(element, "schedule")).toHaveLength(0);
  });

  it("refuses a time in the past with a clear message", async () => {
    const element = mount("reminders");
    await fill(element, localInput(-60_000));
    submit(element);
    await element.updateComplete;
    expect(status(element)).toMatch(/Pick a time in the future/);
    expect(part<HTMLInputElement>(element, "when").validationMessage).toBe("Pick a time in the future.");
  });

  it("repeats every N hours from the chosen first run", async () => {
    const element = mount("reminders");
    await fill(element, localInput(3_600_000), "hours");
    part<HTMLInputElement>(element, "interval").value = "2";
    const scheduled = nextEvent(element, "edge-scheduled");
    submit(element);
    const { detail } = await scheduled;
    const view = (await (await fetchSchedule(detail.id)).json()) as { every: number };
    expect(view.every).toBe(7200);
    await element.updateComplete;
    expect(parts(element, "schedule")[0]!.textContent).toMatch(/Every 2 hours, 100 of 100 runs left/);
  });

  it("lets the visitor choose how many times a repeat runs, and shows how many are left", async () => {
    const element = mount("reminders");
    await fill(element, localInput(3_600_000), "days");
    part<HTMLInputElement>(element, "times").value = "5";
    const scheduled = nextEvent(element, "edge-scheduled");
    submit(element);
    const { detail } = await scheduled;
    expect(await (await fetchSchedule(detail.id)).json()).toMatchObject({ every: 86_400, times: 5, runsLeft: 5 });
    await element.updateComplete;
    expect(parts(element, "schedule")[0]!.textContent).toMatch(/Every day, 5 of 5 runs left/);
  });

  it("sends a cron pattern with the visitor's time zone", async () => {
    const element = mount("reminders");
    await fill(element, "", "cron");
    part<HTMLInputElement>(element, "cron").value = "0 9 * * 1-5";
    const scheduled = nextEvent(element, "edge-scheduled");
    submit(element);
    const { detail } = await scheduled;
    const view = (await (await fetchSchedule(detail.id)).json()) as { cron: string; tz: string };
    expect(view).toMatchObject({ cron: "0 9 * * 1-5", tz: Intl.DateTimeFormat().resolvedOptions().timeZone });
  });

  it("cancels a schedule from the list", async () => {
    const element = mount("reminders");
    await fill(element, localInput(3_600_000));
    const scheduled = nextEvent(element, "edge-scheduled");
    submit(element);
    const { detail } = await scheduled;
    await element.updateComplete;
    const [remembered] = JSON.parse(localStorage.getItem(`schedule-form:${new URL(endpoint).origin}`)!) as { manageToken: string }[];
    const cancelled = nextEvent(element, "edge-cancelled");
    part<HTMLButtonElement>(element, "cancel").click();
    expect((await cancelled).detail.id).toBe(detail.id);
    await element.updateComplete;
    expect(parts(element, "schedule")).toHaveLength(0);
    expect(status(element)).toBe("Cancelled.");
    expect(localStorage.getItem(`schedule-form:${new URL(endpoint).origin}`)).toBe("[]");
    const gone = await fetch(`${endpoint}/api/schedules/${detail.id}`, { headers: { Authorization: `Bearer ${remembered!.manageToken}` } });
    expect(gone.status).toBe(404);
  });

  it("remembers the visitor's schedules for the next visit", async () => {
    const first = mount("reminders");
    await fill(first, localInput(3_600_000));
    const scheduled = nextEvent(first, "edge-scheduled");
    submit(first);
    const { detail } = await scheduled;
    first.remove();
    const again = mount("reminders");
    await expect.poll(() => parts(again, "schedule").map((item) => item.dataset.id)).toEqual([detail.id]);
    await expect.poll(() => parts(again, "schedule")[0]!.textContent).toMatch(/Next: /);
  });

  it("shows the backend's refusal of an unknown target", async () => {
    const element = mount("no-such-target");
    await fill(element, localInput(3_600_000));
    submit(element);
    await expect.poll(() => status(element)).toMatch(/Not scheduled: target: there is no target named "no-such-target"/);
  });
});
