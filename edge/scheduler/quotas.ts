import type { Env } from "../env.ts";
import { Refusal } from "../http/refusal.ts";
import type { SchedulerSettings } from "./settings.ts";

/**
 * Caps on live schedules (not finished, not cancelled) made without the admin token: per client
 * IP and per target. Schedules live in 64 shards, so the counts are kept elsewhere, each in one
 * object: the IP's own `RateLimiter`, and a `RateLimiter` named after the target. Who holds a
 * place: the IP that created the schedule (kept in its row as `owner_ip`), so the shard can give
 * the places back when the schedule finishes or is cancelled.
 */
export interface Holder {
  ip: string;
  target: string | null;
}

const targetCounter = (env: Env, target: string) => env.RATE_LIMITER.getByName(`schedule-target:${target}`);

/** Takes a place for schedule `id` from the IP and from the target, or throws a 429 and takes none. */
export async function holdPlaces(env: Env, settings: SchedulerSettings, holder: Holder, id: string, lastRunBy: number): Promise<void> {
  if (!(await env.RATE_LIMITER.getByName(holder.ip).holdSchedule(id, lastRunBy, settings.maxPerIp))) {
    throw tooMany(`This address already has ${settings.maxPerIp} live schedules; cancel one or wait until one has finished.`);
  }
  if (holder.target !== null && !(await targetCounter(env, holder.target).holdSchedule(id, lastRunBy, settings.maxPerTarget))) {
    await env.RATE_LIMITER.getByName(holder.ip).releaseSchedule(id);
    throw tooMany(`The target "${holder.target}" already has ${settings.maxPerTarget} live schedules; try again once some have finished.`);
  }
}

/** Gives back the places of schedules `ids`, all held by `holder`: one call to each counter, however many. */
export async function releasePlaces(env: Env, holder: Holder, ids: string[]): Promise<void> {
  await Promise.all([
    env.RATE_LIMITER.getByName(holder.ip).releaseSchedules(ids),
    holder.target === null ? undefined : targetCounter(env, holder.target).releaseSchedules(ids),
  ]);
}

const tooMany = (message: string) => new Refusal("too_many_schedules", message);
