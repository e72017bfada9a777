import { html, nothing, type CSSResultGroup } from "lit";
import { property, query, state } from "lit/decorators.js";
import { EdgeElement, define } from "../internal/edge-element.ts";
import { NAME_PATTERN, apiUrl } from "../internal/endpoint.ts";
import { emit } from "../internal/events.ts";
import { Localizer, stringsAttribute } from "../internal/localize.ts";
import { theme } from "../internal/theme.ts";
import { styles } from "./schedule-form.styles.ts";

type Unit = "day" | "hour" | "minute" | "second";

/** Every piece of text the widget shows; set `strings` to change any of them. */
export interface ScheduleStrings {
  when: string;
  firstRun: string;
  repeat: string;
  noRepeat: string;
  everyMinutes: string;
  everyHours: string;
  everyDays: string;
  cronOption: string;
  interval: string;
  runs: string;
  cronLabel: string;
  cronField: string;
  cronHint: string;
  cronZone: (zone: string) => string;
  timesZone: (zone: string) => string;
  submit: string;
  listLabel: string;
  badTarget: string;
  future: string;
  check: (label: string, problem: string) => string;
  checkForm: string;
  scheduling: string;
  scheduledFor: (time: string) => string;
  scheduled: string;
  notScheduled: (reason: string) => string;
  notCancelled: (reason: string) => string;
  cancelled: string;
  couldNotLoad: (reason: string) => string;
  unreachable: string;
  answered: (status: number) => string;
  cron: (pattern: string, zone: string) => string;
  every: (count: number, unit: Unit) => string;
  once: string;
  runsLeft: (left: number, times: number) => string;
  until: (time: string) => string;
  /** Joins the parts of a description ("Every day, 3 of 5 runs left"). */
  comma: string;
  notRunYet: string;
  delivered: (time: string) => string;
  failed: (time: string, reason: string) => string;
  status: (code: number | null) => string;
  next: (time: string) => string;
  finished: string;
  cancel: string;
  cancelLabel: (schedule: string) => string;
}

const inUnits = (count: number, unit: Unit) => new Intl.NumberFormat("en", { style: "unit", unit, unitDisplay: "long" }).format(count);

export const SCHEDULE_STRINGS: ScheduleStrings = {
  when: "When",
  firstRun: "First run",
  repeat: "Repeat",
  noRepeat: "Does not repeat",
  everyMinutes: "Every N minutes",
  everyHours: "Every N hours",
  everyDays: "Every N days",
  cronOption: "Cron pattern (advanced)",
  interval: "N",
  runs: "Runs",
  cronLabel: "Cron pattern (minute hour day month weekday)",
  cronField: "Cron pattern",
  cronHint: "Five fields: minute hour day-of-month month day-of-week, e.g. 0 9 * * 1-5",
  cronZone: (zone) => `In your time zone, ${zone}.`,
  timesZone: (zone) => `Times are in your time zone, ${zone}.`,
  submit: "Schedule",
  listLabel: "Your schedules",
  badTarget: "This form has no valid target; the page must set target.",
  future: "Pick a time in the future.",
  check: (label, problem) => `Check “${label}”: ${problem}`,
  checkForm: "Check the form.",
  scheduling: "Scheduling…",
  scheduledFor: (time) => `Scheduled for ${time}.`,
  scheduled: "Scheduled.",
  notScheduled: (reason) => `Not scheduled: ${reason}`,
  notCancelled: (reason) => `Not cancelled: ${reason}`,
  cancelled: "Cancelled.",
  couldNotLoad: (reason) => `Could not load: ${reason}`,
  unreachable: "the scheduler cannot be reached. Check your connection and try again.",
  answered: (status) => `the scheduler answered ${status}.`,
  cron: (pattern, zone) => `Cron “${pattern}” (${zone})`,
  every: (count, unit) => (count === 1 ? `Every ${unit}` : `Every ${inUnits(count, unit)}`),
  once: "Once",
  runsLeft: (left, times) => `${left} of ${times} ${times === 1 ? "run" : "runs"} left`,
  until: (time) => `until ${time}`,
  comma: ", ",
  notRunYet: "Not run yet",
  delivered: (time) => `Delivered ${time}`,
  failed: (time, reason) => `Failed ${time}: ${reason}`,
  status: (code) => `status ${code}`,
  next: (time) => `Next: ${time}`,
  finished: "Finished",
  cancel: "Cancel",
  cancelLabel: (schedule) => `Cancel schedule: ${schedule}`,
};

declare global {
  interface HTMLElementTagNameMap {
    "schedule-form": ScheduleForm;
  }
  interface GlobalEventHandlersEventMap {
    /** A schedule was created; `next` is its first run (ISO time). */
    "edge-scheduled": CustomEvent<{ id: string; target: string; next: string | null; payload: Record<string, unknown> }>;
    /** The visitor cancelled one of their schedules. */
    "edge-cancelled": CustomEvent<{ id: string; target: string }>;
  }
}

type Repeat = "none" | "minutes" | "hours" | "days" | "cron";
const UNIT_SECONDS: Record<"minutes" | "hours" | "days", number> = { minutes: 60, hours: 3600, days: 86_400 };

/** What the browser remembers of each schedule it made: enough to show and cancel it. */
interface Remembered {
  id: string;
  manageToken: string;
  target: string;
}

interface LastRun {
  at: string;
  ok: boolean;
  status: number | null;
  error: string | null;
}

interface ScheduleView {
  id: string;
  next: string | null;
  state: "scheduled" | "retrying" | "paused" | "done" | "dead";
  at?: string;
  every?: number;
  cron?: string;
  tz?: string;
  /** A repeat's run count, and how many of them are left. */
  times?: number;
  runsLeft?: number;
  until?: string;
  lastRun: LastRun | null;
}

type Listed = Remembered & { view?: ScheduleView; problem?: string };

/** Refreshes the list at most this long after the last look, and shortly after each due time. */
const REFRESH_MAX_MS = 60_000;
const REFRESH_AFTER_DUE_MS = 1_500;

/**
 * A form that schedules a delivery to one of the owner's targets: once at a time, or
 * repeating every N minutes, hours or days, or on a cron pattern in the visitor's time zone.
 * Form controls the page puts inside the element (with `name`s) become the payload. The
 * visitor's schedules are remembered in this browser (with their manage tokens) and listed
 * with their next run, last result and a cancel button.
 *
 * @tag schedule-form
 * @attr target - The name of a target from the backend's `SCHEDULE_TARGETS`.
 * @attr endpoint - The backend origin (default: where the script came from).
 * @attr lang - The language of its text (default: the closest `lang` around it, else English).
 * @attr strings - JSON object overriding UI text, e.g. `{"submit":"Planen"}` (also a property).
 * @slot - The page's own fields (inputs, selects, textareas with a `name`): the payload.
 * @csspart form - The form.
 * @csspart when - The date and time input (the visitor's local time).
 * @csspart repeat - The repeat choice.
 * @csspart interval - The "every N" number input.
 * @csspart cron - The cron pattern input.
 * @csspart times - How many times a repeat runs (empty: as many as the backend allows a visitor).
 * @csspart submit - The button that schedules.
 * @csspart status - What happened (a polite live region).
 * @csspart list - The visitor's schedules.
 * @csspart schedule - One schedule in the list.
 * @csspart cancel - A schedule's cancel button.
 * @cssprop --schedule-form-button-background - Submit button background (default: accent).
 * @cssprop --schedule-form-button-color - Submit button text colour.
 * @cssprop --schedule-form-padding - Padding inside the form.
 * @cssprop --schedule-form-max-width - Widest the element grows (default 32rem).
 * @fires edge-scheduled - A schedule was created.
 * @fires edge-cancelled - A schedule was cancelled.
 */
export class ScheduleForm extends EdgeElement {
  static override styles: CSSResultGroup = [theme, styles];

  /** The target name configured by the site owner. */
  @property({ reflect: true }) target = "";
  /** Overrides of the UI text. As an attribute, a JSON object of the plain-text entries. */
  @property({ converter: stringsAttribute(SCHEDULE_STRINGS) }) strings: Partial<ScheduleStrings> = {};

  @state() private repeat: Repeat = "none";
  @state() private busy = false;
  @state() private status = "";
  @state() private statusKind: "info" | "error" = "info";
  @state() private schedules: Listed[] = [];

  @query("[part=form]") private form!: HTMLFormElement;
  @query("[part=when]") private whenInput!: HTMLInputElement;

  private refreshTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  private readonly l10n = new Localizer(this, SCHEDULE_STRINGS, import.meta.glob("./translations/*.ts"));

  private get text(): ScheduleStrings {
    return this.l10n.text;
  }

  /** A time from the backend, as the language writes it. */
  private time(iso: string): string {
    return this.l10n.dateTime(new Date(iso), { dateStyle: "medium", timeStyle: "medium" });
  }

  protected static override readonly restartOn = ["target"];

  /** Shows this target's schedules that this browser remembers, then asks for their state. */
  protected override start(): void {
    this.schedules = this.remembered().filter((r) => r.target === this.target);
    void this.refresh();
  }

  protected override stop(): void {
    clearTimeout(this.refreshTimer);
  }

  /** Validates and submits the form, as the submit button does. */
  async schedule(): Promise<void> {
    if (this.busy) return;
    const t = this.text;
    if (!NAME_PATTERN.test(this.target)) return this.say(t.badTarget, "error");
    const fields = this.pageFields();
    this.whenInput.setCustomValidity("");
    if (this.repeat !== "cron" && this.whenInput.value && this.localTime(this.whenInput.value) <= Date.now()) {
      this.whenInput.setCustomValidity(t.future);
    }
    for (const field of fields) {
      if (!field.checkValidity()) {
        field.reportValidity();
        return this.say(t.check(labelOf(field), field.validationMessage), "error");
      }
    }
    if (!this.form.reportValidity()) {
      const invalid = this.form.querySelector<HTMLInputElement>(":invalid");
      return this.say(invalid ? t.check(invalid.dataset.label ?? invalid.name, invalid.validationMessage) : t.checkForm, "error");
    }

    const payload = payloadOf(fields);
    const body: Record<string, unknown> = { target: this.target, payload, idempotencyKey: crypto.randomUUID() };
    const formData = new FormData(this.form);
    const times = String(formData.get("times") ?? "").trim();
    if (this.repeat !== "none" && times !== "") body.times = Number(times);
    if (this.repeat === "none") body.at = new Date(this.localTime(this.whenInput.value)).toISOString();
    else if (this.repeat === "cron") Object.assign(body, { cron: String(formData.get("cron")).trim(), tz: this.zone });
    else {
      body.every = Number(formData.get("interval")) * UNIT_SECONDS[this.repeat];
      body.start = new Date(this.localTime(this.whenInput.value)).toISOString();
    }

    this.busy = true;
    this.say(t.scheduling);
    try {
      const created = await this.call<ScheduleView & { manageToken: string }>("/api/schedules", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
      });
      const entry: Remembered = { id: created.id, manageToken: created.manageToken, target: this.target };
      this.store([...this.remembered(), entry]);
      this.schedules = [{ ...entry, view: created }, ...this.schedules];
      this.say(created.next ? t.scheduledFor(this.time(created.next)) : t.scheduled);
      emit(this, "edge-scheduled", { id: created.id, target: this.target, next: created.next, payload });
      this.planRefresh();
    } catch (error) {
      this.say(t.notScheduled((error as Error).message), "error");
    } finally {
      this.busy = false;
    }
  }

  /** Cancels one of the visitor's schedules. */
  async cancel(id: string): Promise<void> {
    const entry = this.schedules.find((s) => s.id === id);
    if (!entry) return;
    try {
      await this.call(`/api/schedules/${id}`, { method: "DELETE", headers: { Authorization: `Bearer ${entry.manageToken}` } });
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 404)) {
        this.say(this.text.notCancelled((error as Error).message), "error");
        return;
      }
    }
    this.forget(id);
    this.say(this.text.cancelled);
    emit(this, "edge-cancelled", { id, target: entry.target });
  }

  /** Reloads every remembered schedule of this target from the backend. */
  async refresh(): Promise<void> {
    clearTimeout(this.refreshTimer);
    if (this.schedules.length === 0) return;
    const updated = await Promise.all(
      this.schedules.map(async (entry): Promise<Listed | null> => {
        try {
          const view = await this.call<ScheduleView>(`/api/schedules/${entry.id}`, {
            headers: { Authorization: `Bearer ${entry.manageToken}` },
          });
          return { ...entry, view };
        } catch (error) {
          // Gone (cancelled elsewhere, or the backend's state was reset): forget it.
          if (error instanceof ApiError && (error.status === 404 || error.status === 400)) return null;
          return { ...entry, problem: this.text.couldNotLoad((error as Error).message) };
        }
      }),
    );
    const kept = updated.filter((entry): entry is Listed => entry !== null);
    if (kept.length !== this.schedules.length) {
      const ids = new Set(kept.map((k) => k.id));
      this.store(this.remembered().filter((r) => r.target !== this.target || ids.has(r.id)));
    }
    this.schedules = kept;
    this.planRefresh();
  }

  private planRefresh(): void {
    clearTimeout(this.refreshTimer);
    if (!this.isConnected || this.schedules.length === 0) return;
    const now = Date.now();
    const dues = this.schedules.map((s) => (s.view?.next ? Date.parse(s.view.next) + REFRESH_AFTER_DUE_MS : Infinity));
    const wait = Math.max(250, Math.min(REFRESH_MAX_MS, ...dues.map((due) => due - now)));
    this.refreshTimer = setTimeout(() => void this.refresh(), wait);
  }

  private forget(id: string): void {
    this.store(this.remembered().filter((r) => r.id !== id));
    this.schedules = this.schedules.filter((s) => s.id !== id);
  }

  /** `YYYY-MM-DDTHH:mm[:ss]` from the date-time input, read in the visitor's own zone. */
  private localTime(value: string): number {
    return new Date(value).getTime();
  }

  private pageFields(): FormField[] {
    return [...this.querySelectorAll<FormField>("input[name], select[name], textarea[name]")].filter((f) => !f.disabled);
  }

  private say(message: string, kind: "info" | "error" = "info"): void {
    this.status = message;
    this.statusKind = kind;
  }

  private get storageKey(): string {
    let origin = "";
    try {
      origin = this.endpointUrl.origin;
    } catch {
      // A bad endpoint shows up as an error on the first call.
    }
    return `schedule-form:${origin}`;
  }

  private remembered(): Remembered[] {
    try {
      const list = JSON.parse(localStorage.getItem(this.storageKey) ?? "[]") as unknown;
      return Array.isArray(list) ? list.filter(isRemembered) : [];
    } catch {
      return [];
    }
  }

  private store(list: Remembered[]): void {
    try {
      localStorage.setItem(this.storageKey, JSON.stringify(list));
    } catch {
      // Storage full or blocked: the list lasts for this page only.
    }
  }

  private async call<T>(path: string, init: RequestInit): Promise<T> {
    let response: Response;
    try {
      response = await fetch(apiUrl(this.endpointUrl, path), init);
    } catch {
      throw new Error(this.text.unreachable);
    }
    const data = (await response.json().catch(() => ({}))) as { error?: { message?: string } };
    if (!response.ok) throw new ApiError(response.status, data.error?.message ?? this.text.answered(response.status));
    return data as T;
  }

  private describe(view: ScheduleView | undefined): string {
    const t = this.text;
    if (!view) return "";
    if (view.cron) return [t.cron(view.cron, view.tz ?? ""), ...this.ends(view)].join(t.comma);
    if (view.every) return [t.every(...interval(view.every)), ...this.ends(view)].join(t.comma);
    return t.once;
  }

  /** Every repeat a visitor makes ends; say when, so nobody expects it to run forever. */
  private ends(view: ScheduleView): string[] {
    const ends: string[] = [];
    if (view.runsLeft !== undefined) ends.push(this.text.runsLeft(view.runsLeft, view.times ?? view.runsLeft));
    if (view.until) ends.push(this.text.until(this.time(view.until)));
    return ends;
  }

  private lastResult(run: LastRun | null) {
    const t = this.text;
    if (!run) return html`<span>${t.notRunYet}</span>`;
    const when = this.time(run.at);
    if (run.ok) return html`<span>${t.delivered(when)}</span>`;
    return html`<span class="failed">${t.failed(when, run.error ?? t.status(run.status))}</span>`;
  }

  protected override render() {
    const t = this.text;
    const timed = this.repeat !== "cron";
    const every = this.repeat === "minutes" || this.repeat === "hours" || this.repeat === "days";
    return html`
      <!-- novalidate: schedule() checks every field itself, so each error is also said in the status. -->
      <form part="form" novalidate @submit=${(e: Event) => (e.preventDefault(), void this.schedule())}>
        <slot></slot>
        <div class="row">
          <label>
            ${every ? t.firstRun : t.when}
            <input
              part="when"
              name="when"
              type="datetime-local"
              step="1"
              data-label=${every ? t.firstRun : t.when}
              ?required=${timed}
              ?disabled=${!timed}
              @input=${() => this.whenInput.setCustomValidity("")}
            />
          </label>
          <label>
            ${t.repeat}
            <select part="repeat" name="repeat" @change=${(e: Event) => (this.repeat = (e.target as HTMLSelectElement).value as Repeat)}>
              <option value="none">${t.noRepeat}</option>
              <option value="minutes">${t.everyMinutes}</option>
              <option value="hours">${t.everyHours}</option>
              <option value="days">${t.everyDays}</option>
              <option value="cron">${t.cronOption}</option>
            </select>
          </label>
          ${every
            ? html`<label
                >${t.interval} <input part="interval" name="interval" type="number" min="1" max="1000" step="1" value="1" required data-label=${t.interval}
              /></label>`
            : nothing}
          ${this.repeat !== "none"
            ? html`<label>${t.runs} <input part="times" name="times" type="number" min="1" step="1" placeholder="100" data-label=${t.runs} /></label>`
            : nothing}
        </div>
        ${this.repeat === "cron"
          ? html`<label>
              ${t.cronLabel}
              <input
                part="cron"
                name="cron"
                required
                data-label=${t.cronField}
                pattern="\\s*\\S+(\\s+\\S+){4}\\s*"
                placeholder="0 9 * * 1-5"
                title=${t.cronHint}
              />
              <span class="hint">${t.cronZone(this.zone)}</span>
            </label>`
          : html`<span class="hint">${t.timesZone(this.zone)}</span>`}
        <button part="submit" type="submit" ?disabled=${this.busy}>${t.submit}</button>
        <p part="status" role="status" aria-live="polite" data-kind=${this.statusKind}>${this.status}</p>
      </form>
      <ul part="list" aria-label=${t.listLabel}>${this.schedules.map((entry) => this.renderEntry(entry))}</ul>
    `;
  }

  private renderEntry(entry: Listed) {
    const t = this.text;
    const view = entry.view;
    const next = view?.next ? t.next(this.time(view.next)) : view ? t.finished : "";
    return html`<li part="schedule" data-id=${entry.id}>
      <span>
        <strong>${this.describe(view)}</strong> · <span class="next">${next}</span> ·
        <span class="last">${entry.problem ?? this.lastResult(view?.lastRun ?? null)}</span>
      </span>
      <button part="cancel" type="button" aria-label=${t.cancelLabel(`${this.describe(view)} ${next}`)} @click=${() => void this.cancel(entry.id)}>
        ${t.cancel}
      </button>
    </li>`;
  }
}

type FormField = HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement;

class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** The page's fields as JSON: numbers as numbers, checkboxes as booleans, repeated names as lists. */
function payloadOf(fields: FormField[]): Record<string, unknown> {
  const payload: Record<string, unknown> = {};
  for (const field of fields) {
    let value: unknown;
    if (field instanceof HTMLInputElement && field.type === "checkbox") value = field.checked;
    else if (field instanceof HTMLInputElement && field.type === "radio") {
      if (!field.checked) continue;
      value = field.value;
    } else if (field instanceof HTMLInputElement && (field.type === "number" || field.type === "range")) {
      value = field.value === "" ? null : field.valueAsNumber;
    } else value = field.value;
    const existing = payload[field.name];
    if (existing === undefined) payload[field.name] = value;
    else payload[field.name] = Array.isArray(existing) ? [...existing, value] : [existing, value];
  }
  return payload;
}

function labelOf(field: FormField): string {
  return (field.labels?.[0]?.textContent ?? field.getAttribute("aria-label") ?? field.name).trim();
}

/** A repeat interval in its largest whole unit: 7200 s is 2 hours. */
function interval(seconds: number): [number, Unit] {
  for (const [unit, size] of [["day", 86_400], ["hour", 3600], ["minute", 60]] as const) {
    if (seconds % size === 0) return [seconds / size, unit];
  }
  return [seconds, "second"];
}

const isRemembered = (value: unknown): value is Remembered =>
  typeof value === "object" &&
  value !== null &&
  typeof (value as Remembered).id === "string" &&
  typeof (value as Remembered).manageToken === "string" &&
  typeof (value as Remembered).target === "string";

define("schedule-form", ScheduleForm);
