/**
 * React components for the widgets (`edge-widgets/react`), for React 18, which passes
 * everything to custom elements as string attributes and cannot listen to their events, and for
 * typed event props in any React: `<EdgeChat room="lobby" onMessage={(e) => e.detail.message} />`.
 * Each prop is set as the element's property; each `edge-<name>` event is an `on<Name>` prop.
 * React 19 can also use the tags directly, typed by `edge-widgets/types/react`.
 */
import { createComponent, type EventName } from "@lit/react";
import * as React from "react";
import { ClickCounter as ClickCounterElement } from "../widgets/click-counter/click-counter.ts";
import { EdgeChat as EdgeChatElement } from "../widgets/edge-chat/edge-chat.ts";
import { ScheduleForm as ScheduleFormElement } from "../widgets/schedule-form/schedule-form.ts";
import { StreamFeed as StreamFeedElement } from "../widgets/stream-feed/stream-feed.ts";
import { VideoGallery as VideoGalleryElement } from "../widgets/video-gallery/video-gallery.ts";

type EdgeEventName = Extract<keyof GlobalEventHandlersEventMap, `edge-${string}`>;
type PascalCase<S extends string> = S extends `${infer Head}-${infer Tail}` ? `${Capitalize<Head>}${PascalCase<Tail>}` : Capitalize<S>;
/** `edge-stream-closed` is the `onStreamClosed` prop. */
type EventProp<N extends EdgeEventName> = N extends `edge-${infer Name}` ? `on${PascalCase<Name>}` : never;
type EventProps<N extends EdgeEventName> = { [K in N as EventProp<K>]: EventName<GlobalEventHandlersEventMap[K]> };

/** The `events` option of `createComponent` for these event names, typed by the global event map. */
function events<N extends EdgeEventName>(...names: N[]): EventProps<N> {
  const props: Record<string, string> = {};
  for (const name of names) props[`on${name.slice("edge-".length).replace(/(?:^|-)(\w)/g, (_, letter: string) => letter.toUpperCase())}`] = name;
  return props as EventProps<N>;
}

export const ClickCounter = createComponent({
  react: React,
  tagName: "click-counter",
  elementClass: ClickCounterElement,
  events: events("edge-count", "edge-refused", "edge-connection"),
  displayName: "ClickCounter",
});

export const EdgeChat = createComponent({
  react: React,
  tagName: "edge-chat",
  elementClass: EdgeChatElement,
  events: events("edge-message", "edge-refused", "edge-connection"),
  displayName: "EdgeChat",
});

export const ScheduleForm = createComponent({
  react: React,
  tagName: "schedule-form",
  elementClass: ScheduleFormElement,
  events: events("edge-scheduled", "edge-cancelled"),
  displayName: "ScheduleForm",
});

export const StreamFeed = createComponent({
  react: React,
  tagName: "stream-feed",
  elementClass: StreamFeedElement,
  events: events("edge-items", "edge-stream-closed", "edge-connection"),
  displayName: "StreamFeed",
});

export const VideoGallery = createComponent({
  react: React,
  tagName: "video-gallery",
  elementClass: VideoGalleryElement,
  events: events("edge-video-open", "edge-video-playing", "edge-video-close", "edge-video-error", "edge-video-uploaded"),
  displayName: "VideoGallery",
});
