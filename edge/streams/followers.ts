/**
 * What a stream tells the subscriptions that follow it, as the streams side defines it:
 * `Subscription` implements `StreamFollower` and `SubscriptionRegistry` implements
 * `StreamDirectory`, so streams need nothing from the subscriptions folder and the two
 * features depend one way only (subscriptions → streams).
 */
import type { Env } from "../env.ts";

/** A subscription that follows streams, by name or by pattern. */
export interface StreamFollower {
  /** The stream's tail moved; answers false when the subscription no longer follows it. */
  streamChanged(path: string, tail: string): boolean | Promise<boolean>;
  /** The stream was deleted or expired. */
  streamGone(path: string): void | Promise<void>;
}

/** Knows which streams exist, and which patterns follow new ones. */
export interface StreamDirectory {
  /** A stream was created: answers the subscriptions whose pattern matches it. */
  streamCreated(path: string): string[] | Promise<string[]>;
  streamRemoved(path: string): void | Promise<void>;
}

/**
 * The directory is sharded by a stream path's first segment, so that creating streams does
 * not queue on one object.
 */
export const DIRECTORY_SHARDS = 16;

export const shardName = (n: number) => `shard-${n}`;

/** FNV-1a of the first segment. */
export function shardOf(path: string): number {
  const first = path.split("/")[0]!;
  let hash = 0x811c9dc5;
  for (let i = 0; i < first.length; i++) hash = Math.imul(hash ^ first.charCodeAt(i), 0x01000193);
  return (hash >>> 0) % DIRECTORY_SHARDS;
}

/** The directory shard that knows `path` and the patterns that can match it. */
export const directoryFor = (env: Env, path: string): StreamDirectory => env.SUBSCRIPTION_REGISTRY.getByName(shardName(shardOf(path)));

export const followerOf = (env: Env, subscription: string): StreamFollower => env.SUBSCRIPTIONS.getByName(subscription);
