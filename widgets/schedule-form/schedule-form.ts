import { html, nothing, type CSSResultGroup } from "lit";
import { property, query, state } from "lit/decorators.js";
import { EdgeElement, define } from "../internal/edge-element.ts";
import { NAME_PATTERN, apiUrl } from "../internal/endpoint.ts";
import { emit } from "../internal/events.ts";
import { theme } from "../internal/theme.ts";
import { styles } from "./schedule-form.styles.ts";

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
  state: "scheduled" | "retrying" | "done";
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

  @state() private repeat: Repeat = "none";
  @state() private busy = false;
  @state() private status = "";
  @state() private statusKind: "info" | "error" = "info";
  @state() private schedules: Listed[] = [];

  @query("[part=form]") private form!: HTMLFormElement;
  @query("[part=when]") private whenInput!: HTMLInputElement;

  private refreshTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  private readonly time = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });

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
    if (!NAME_PATTERN.test(this.target)) return this.say("This form has no valid target; the page must set target.", "error");
    const fields = this.pageFields();
    this.whenInput.setCustomValidity("");
    if (this.repeat !== "cron" && this.whenInput.value && this.localTime(this.whenInput.value) <= Date.now()) {
      this.whenInput.setCustomValidity("Pick a time in the future.");
    }
    for (const field of fields) {
      if (!field.checkValidity()) {
        field.reportValidity();
        return this.say(`Check “${labelOf(field)}”: ${field.validationMessage}`, "error");
      }
    }
    if (!this.form.reportValidity()) {
      const invalid = this.form.querySelector<HTMLInputElement>(":invalid");
      return this.say(invalid ? `Check “${invalid.dataset.label}”: ${invalid.validationMessage}` : "Check the form.", "error");
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
    this.say("Scheduling…");
    try {
      const created = await this.call<ScheduleView & { manageToken: string }>("/api/schedules", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
      });
      const entry: Remembered = { id: created.id, manageToken: created.manageToken, target: this.target };
      this.store([...this.remembered(), entry]);
      this.schedules = [{ ...entry, view: created }, ...this.schedules];
      this.say(created.next ? `Scheduled for ${this.time.format(new Date(created.next))}.` : "Scheduled.");
      emit(this, "edge-scheduled", { id: created.id, target: this.target, next: created.next, payload });
      this.planRefresh();
    } catch (error) {
      this.say(`Not scheduled: ${(error as Error).message}`, "error");
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
        this.say(`Not cancelled: ${(error as Error).message}`, "error");
        return;
      }
    }
    this.forget(id);
    this.say("Cancelled.");
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
          return { ...entry, problem: `Could not load: ${(error as Error).message}` };
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
      throw new Error("the scheduler cannot be reached. Check your connection and try again.");
    }
    const data = (await response.json().catch(() => ({}))) as { error?: { message?: string } };
    if (!response.ok) throw new ApiError(response.status, data.error?.message ?? `the scheduler answered ${response.status}.`);
    return data as T;
  }

  private describe(view: ScheduleView | undefined): string {
    if (!view) return "";
    if (view.cron) return `Cron “${view.cron}” (${view.tz})${this.describeEnd(view)}`;
    if (view.every) return `Every ${humanInterval(view.every)}${this.describeEnd(view)}`;
    return "Once";
  }

  /** Every repeat a visitor makes ends; say when, so nobody expects it to run forever. */
  private describeEnd(view: ScheduleView): string {
    const ends: string[] = [];
    if (view.runsLeft !== undefined) ends.push(`${view.runsLeft} of ${view.times} ${view.times === 1 ? "run" : "runs"} left`);
    if (view.until) ends.push(`until ${this.time.format(new Date(view.until))}`);
    return ends.length > 0 ? `, ${ends.join(", ")}` : "";
  }

  private lastResult(run: LastRun | null) {
    if (!run) return html`<span>Not run yet</span>`;
    const when = this.time.format(new Date(run.at));
    if (run.ok) return html`<span>Delivered ${when}</span>`;
    return html`<span class="failed">Failed ${when}: ${run.error ?? `status ${run.status}`}</span>`;
  }

  protected override render() {
    const timed = this.repeat !== "cron";
    const every = this.repeat === "minutes" || this.repeat === "hours" || this.repeat === "days";
    return html`
      <form part="form" @submit=${(e: Event) => (e.preventDefault(), void this.schedule())}>
        <slot></slot>
        <div class="row">
          <label>
            ${every ? "First run" : "When"}
            <input
              part="when"
              name="when"
              type="datetime-local"
              step="1"
              data-label="When"
              ?required=${timed}
              ?disabled=${!timed}
              @input=${() => this.whenInput.setCustomValidity("")}
            />
          </label>
          <label>
            Repeat
            <select part="repeat" name="repeat" @change=${(e: Event) => (this.repeat = (e.target as HTMLSelectElement).value as Repeat)}>
              <option value="none">Does not repeat</option>
              <option value="minutes">Every N minutes</option>
              <option value="hours">Every N hours</option>
              <option value="days">Every N days</option>
              <option value="cron">Cron pattern (advanced)</option>
            </select>
          </label>
          ${every
            ? html`<label>N <input part="interval" name="interval" type="number" min="1" max="1000" step="1" value="1" required data-label="N" /></label>`
            : nothing}
          ${this.repeat !== "none"
            ? html`<label>Runs <input part="times" name="times" type="number" min="1" step="1" placeholder="100" data-label="Runs" /></label>`
            : nothing}
        </div>
        ${this.repeat === "cron"
          ? html`<label>
              Cron pattern (minute hour day month weekday)
              <input
                part="cron"
                name="cron"
                required
                data-label="Cron pattern"
                pattern="\\s*\\S+(\\s+\\S+){4}\\s*"
                placeholder="0 9 * * 1-5"
                title="Five fields: minute hour day-of-month month day-of-week, e.g. 0 9 * * 1-5"
              />
              <span class="hint">In your time zone, ${this.zone}.</span>
            </label>`
          : html`<span class="hint">Times are in your time zone, ${this.zone}.</span>`}
        <button part="submit" type="submit" ?disabled=${this.busy}>Schedule</button>
        <p part="status" role="status" aria-live="polite" data-kind=${this.statusKind}>${this.status}</p>
      </form>
      <ul part="list" aria-label="Your schedules">${this.schedules.map((entry) => this.renderEntry(entry))}</ul>
    `;
  }

  private renderEntry(entry: Listed) {
    const view = entry.view;
    const next = view?.next ? `Next: ${this.time.format(new Date(view.next))}` : view ? "Finished" : "";
    return html`<li part="schedule" data-id=${entry.id}>
      <span>
        <strong>${this.describe(view)}</strong> · <span class="next">${next}</span> ·
        <span class="last">${entry.problem ?? this.lastResult(view?.lastRun ?? null)}</span>
      </span>
      <button part="cancel" type="button" aria-label=${`Cancel schedule: ${this.describe(view)} ${next}`} @click=${() => void this.cancel(entry.id)}>
        Cancel
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

function humanInterval(seconds: number): string {
  for (const [unit, size] of [["day", 86_400], ["hour", 3600], ["minute", 60]] as const) {
    if (seconds % size === 0) {
      const n = seconds / size;
      return n === 1 ? unit : `${n} ${unit}s`;
    }
  }
  return `${seconds} seconds`;
}

const isRemembered = (value: unknown): value is Remembered =>
  typeof value === "object" &&
  value !== null &&
  typeof (value as Remembered).id === "string" &&
  typeof (value as Remembered).manageToken === "string" &&
  typeof (value as Remembered).target === "string";

define("schedule-form", ScheduleForm);
