import { afterEach, describe, expect, inject, it } from "vitest";
import { userEvent } from "vitest/browser";
import "./schedule-form.ts";
import type { ScheduleForm } from "./schedule-form.ts";
import { accessibilityViolations, colorScheme, focused, press, until } from "../internal/test-support.ts";

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

afterEach(async () => {
  document.body.replaceChildren();
  localStorage.clear();
  await colorScheme("light");
});

/** A label's own words, without the text of the control inside it. */
const labelText = (element: Element, partName: string) =>
  [...part(element, partName).closest("label")!.childNodes]
    .filter((node) => node.nodeType === Node.TEXT_NODE)
    .map((node) => node.textContent)
    .join("")
    .trim();

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

describe("<schedule-form> in other languages", () => {
  it("re-renders its labels and options when its lang changes", async () => {
    const element = mount("reminders");
    element.lang = "de";
    await until(element, () => labelText(element, "when") === "Wann");
    expect(labelText(element, "repeat")).toBe("Wiederholen");
    expect(part(element, "submit").textContent).toBe("Planen");
    expect(part(element, "list").getAttribute("aria-label")).toBe("Deine Zeitpläne");
    element.lang = "ja";
    await until(element, () => part(element, "submit").textContent === "予約する");
    expect(part<HTMLSelectElement>(element, "repeat").options[1]!.textContent).toBe("N分ごと");
    element.lang = "es";
    await until(element, () => part(element, "submit").textContent === "Programar");
    element.lang = "fr";
    await until(element, () => part(element, "submit").textContent === "Planifier");
  });

  it("writes times, repeats and what is left as the language does", async () => {
    const element = mount("reminders");
    element.lang = "de";
    await until(element, () => part(element, "submit").textContent === "Planen");
    await fill(element, localInput(3_600_000), "hours");
    part<HTMLInputElement>(element, "interval").value = "2";
    const scheduled = nextEvent(element, "edge-scheduled");
    submit(element);
    const { detail } = await scheduled;
    const format = (locale: string) => new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeStyle: "medium" }).format(new Date(detail.next!));
    await until(element, () => status(element) === `Geplant für ${format("de")}.`);
    const item = () => parts(element, "schedule")[0]!.textContent!.replace(/\s+/g, " ");
    expect(item()).toContain("Alle 2 Stunden, noch 100 Durchläufe von 100");
    expect(item()).toContain(`Nächster: ${format("de")}`);
    element.lang = "ar-EG";
    await until(element, () => item().includes(`التالي: ${format("ar-EG")}`));
    expect(item()).toContain("تبقّى ١٠٠ تشغيل من ١٠٠");
  });

  it("lays the form out right to left in Arabic", async () => {
    const element = mount("reminders");
    element.lang = "ar";
    await until(element, () => element.getAttribute("dir") === "rtl" && part(element, "submit").textContent === "جدولة");
    const form = part(element, "form").getBoundingClientRect();
    const button = part(element, "submit").getBoundingClientRect();
    expect(form.right - button.right).toBeLessThan(20);
    expect(form.right - part(element, "when").getBoundingClientRect().right).toBeLessThan(20);
  });

  it("lets strings overrides win, and shows English for a language it has no text for", async () => {
    const element = mount("reminders");
    element.setAttribute("strings", '{"submit":"Erinnern"}');
    element.lang = "de";
    await until(element, () => part(element, "submit").textContent === "Erinnern" && labelText(element, "when") === "Wann");
    const unknown = mount("reminders");
    unknown.lang = "sjn";
    await until(unknown, () => part(unknown, "submit").textContent === "Schedule");
    expect(unknown.getAttribute("dir")).toBe("ltr");
  });
});

describe("<schedule-form> from the keyboard", () => {
  it("goes from the page's fields through its own with Tab", async () => {
    const element = mount("reminders", `<label>Text <input name="text"></label>`);
    await element.updateComplete;
    element.querySelector("input")!.focus();
    await press("Tab");
    expect(focused()).toBe(part(element, "when"));
    // The date-time input's own fields take Tab in turn; on from the repeat choice:
    part(element, "repeat").focus();
    await press("Tab");
    expect(focused()).toBe(part(element, "submit"));
  });

  it("submits with Enter, focuses the field in error and announces why", async () => {
    const element = mount("reminders", `<label>Text <input name="text" required></label>`);
    await element.updateComplete;
    part(element, "when").focus();
    await press("Enter");
    await until(element, () => status(element) !== "");
    expect(part(element, "status").getAttribute("role")).toBe("status");
    expect(status(element)).toMatch(/^Check “Text”/);
    expect(focused()).toBe(element.querySelector("input"));
    await userEvent.keyboard("water the plants");
    part(element, "when").focus();
    await press("Enter");
    await until(element, () => status(element).startsWith("Check “When”"));
    expect(focused()).toBe(part(element, "when"));
  });
});

describe.each(["light", "dark"] as const)("<schedule-form> accessibility, %s scheme", (scheme) => {
  it("has no axe violations empty, with errors, with a schedule listed and refused", async () => {
    await colorScheme(scheme);
    const empty = mount("reminders", `<label>Text <input name="text"></label>`);
    const invalid = mount("reminders", `<label>Text <input name="text" required></label>`);
    invalid.lang = "ar";
    const listed = mount("reminders");
    const refused = mount("no-such-target");
    await Promise.all([empty, invalid, listed, refused].map((element) => element.updateComplete));
    await fill(invalid, localInput(-60_000), "cron");
    submit(invalid);
    await fill(listed, localInput(3_600_000), "days");
    const scheduled = nextEvent(listed, "edge-scheduled");
    submit(listed);
    await scheduled;
    await fill(refused, localInput(3_600_000));
    submit(refused);
    await until(refused, () => status(refused).startsWith("Not scheduled"));
    await until(invalid, () => status(invalid) !== "");
    await until(listed, () => parts(listed, "schedule").length === 1);
    expect(await accessibilityViolations(document.body)).toEqual([]);
  });
});

