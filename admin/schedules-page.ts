import { LitElement, html } from "lit";
import { state } from "lit/decorators.js";
import { call, part, problem } from "./api.ts";
import { consoleStyles } from "./console.styles.ts";
import { feedback } from "./feedback.ts";
import { PagedList, pager } from "./paged-list.ts";

declare global {
  interface HTMLElementTagNameMap {
    "schedules-page": SchedulesPage;
  }
}

type ScheduleState = "scheduled" | "retrying" | "paused" | "done" | "dead";
const STATES: ScheduleState[] = ["scheduled", "retrying", "paused", "done", "dead"];

interface Run {
  at: string;
  attempt: number;
  ok: boolean;
  status: number | null;
  durationMs: number;
  error: string | null;
}

interface Schedule {
  id: string;
  target: string | null;
  url: string | null;
  state: ScheduleState;
  next: string | null;
  runCount: number;
  failedAttempts: number;
  cron?: string;
  every?: number;
  at?: string;
}

const when = (iso: string | null) => (iso ? new Date(iso).toLocaleString() : "—");
const timing = (s: Schedule) => (s.cron ? `cron ${s.cron}` : s.every ? `every ${s.every} s` : s.at ? `once` : "");

/**
 * Every schedule, filtered by target and state, each with its runs; cancel, pause and resume,
 * run now, and the dead-letter list (state "dead") with retry.
 */
export class SchedulesPage extends LitElement {
  static override styles = consoleStyles;

  @state() private target = "";
  @state() private stateFilter: ScheduleState | "" = "";
  @state() private runs = new Map<string, Run[]>();
  @state() private error = "";
  @state() private notice = "";

  private readonly schedules = new PagedList<Schedule>(this, async (cursor) => {
    const query = new URLSearchParams({ limit: "20" });
    if (cursor) query.set("cursor", cursor);
    if (this.target) query.set("target", this.target);
    if (this.stateFilter) query.set("state", this.stateFilter);
    const page = await call<{ schedules: Schedule[]; cursor: string | null }>(`/api/schedules?${query}`);
    return { items: page.schedules, cursor: page.cursor };
  });

  override connectedCallback(): void {
    super.connectedCallback();
    void this.schedules.reload();
  }

  private filter(event: SubmitEvent): void {
    event.preventDefault();
    const data = new FormData(event.target as HTMLFormElement);
    this.target = String(data.get("target")).trim();
    this.stateFilter = String(data.get("state")) as ScheduleState | "";
    void this.schedules.reload();
  }

  private showDead(): void {
    this.stateFilter = "dead";
    void this.schedules.reload();
  }

  private async act(schedule: Schedule, action: "pause" | "resume" | "run" | "retry" | "cancel"): Promise<void> {
    if (action === "cancel" && !confirm(`Cancel schedule ${schedule.id}? It will not run again.`)) return;
    this.error = "";
    this.notice = "";
    try {
      const path = `/api/schedules/${part(schedule.id)}`;
      if (action === "cancel") await call(path, { method: "DELETE" });
      else await call(`${path}/${action}`, { method: "POST" });
      const updated = await call<Schedule>(path).catch(() => undefined);
      this.schedules.items = this.schedules.items.map((item) => (item.id === schedule.id && updated ? updated : item));
      if (this.runs.has(schedule.id)) await this.loadRuns(schedule.id);
      this.notice = { pause: "Paused", resume: "Resumed", run: "Running now", retry: "Queued again", cancel: "Cancelled" }[action] + `: ${schedule.id}.`;
      this.requestUpdate();
    } catch (error) {
      this.error = problem(error);
    }
  }

  private async loadRuns(id: string): Promise<void> {
    try {
      const { runs } = await call<{ runs: Run[] }>(`/api/schedules/${part(id)}/runs?limit=10`);
      this.runs = new Map(this.runs).set(id, runs);
    } catch (error) {
      this.error = problem(error);
    }
  }

  private toggleRuns(id: string): void {
    if (this.runs.has(id)) {
      const runs = new Map(this.runs);
      runs.delete(id);
      this.runs = runs;
    } else {
      void this.loadRuns(id);
    }
  }

  override render() {
    const list = this.schedules;
    return html`
      <h2>Schedules</h2>
      <form class="row" @submit=${this.filter} aria-label="Filter schedules">
        <label>Target <input name="target" .value=${this.target} maxlength="64" /></label>
        <label
          >State
          <select name="state" .value=${this.stateFilter}>
            <option value="">Any</option>
            ${STATES.map((s) => html`<option value=${s} ?selected=${s === this.stateFilter}>${s}</option>`)}
          </select></label
        >
        <button type="submit">Filter</button>
        <button type="button" @click=${this.showDead}>Dead letters</button>
      </form>
      ${feedback(this.notice, this.error)}
      <div class="panel">
        <table>
          <thead>
            <tr><th scope="col">Schedule</th><th scope="col">Target</th><th scope="col">State</th><th scope="col">Next</th><th scope="col" class="number">Runs</th><th scope="col">Actions</th></tr>
          </thead>
          <tbody>
            ${list.items.map((schedule) => this.renderSchedule(schedule))}
          </tbody>
        </table>
        ${pager(list, "schedules")}
      </div>
    `;
  }

  private renderSchedule(s: Schedule) {
    const runs = this.runs.get(s.id);
    const live = s.state === "scheduled" || s.state === "retrying";
    return html`
      <tr data-schedule=${s.id}>
        <td><code>${s.id}</code><div class="muted">${timing(s)}</div></td>
        <td>${s.target ?? html`<span class="mono">${s.url}</span>`}</td>
        <td data-state>${s.state}</td>
        <td>${when(s.next)}</td>
        <td class="number">${s.runCount}</td>
        <td>
          <div class="row">
            ${live ? html`<button type="button" @click=${() => this.act(s, "pause")} aria-label=${`Pause ${s.id}`}>Pause</button>` : ""}
            ${s.state === "paused" ? html`<button type="button" @click=${() => this.act(s, "resume")} aria-label=${`Resume ${s.id}`}>Resume</button>` : ""}
            ${s.state !== "done" && s.state !== "dead" ? html`<button type="button" @click=${() => this.act(s, "run")} aria-label=${`Run now: ${s.id}`}>Run now</button>` : ""}
            ${s.state === "dead" ? html`<button type="button" @click=${() => this.act(s, "retry")} aria-label=${`Retry ${s.id}`}>Retry</button>` : ""}
            <button type="button" @click=${() => this.toggleRuns(s.id)} aria-expanded=${runs !== undefined} aria-label=${`Runs of ${s.id}`}>Runs</button>
            ${s.state !== "done" ? html`<button type="button" class="danger" @click=${() => this.act(s, "cancel")} aria-label=${`Cancel ${s.id}`}>Cancel</button>` : ""}
          </div>
        </td>
      </tr>
      ${runs
        ? html`<tr>
            <td colspan="6">
              ${runs.length === 0
                ? html`<p class="muted">No runs yet.</p>`
                : html`<ul class="plain" aria-label=${`Runs of ${s.id}`}>
                    ${runs.map((run) => html`<li>${when(run.at)} · attempt ${run.attempt} · ${run.ok ? "ok" : "failed"}${run.status !== null ? ` (${run.status})` : ""} · ${run.durationMs} ms${run.error ? html` · <span class="error">${run.error}</span>` : ""}</li>`)}
                  </ul>`}
            </td>
          </tr>`
        : ""}
    `;
  }
}

customElements.define("schedules-page", SchedulesPage);
