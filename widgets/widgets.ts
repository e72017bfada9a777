/** Defines every edge-widgets element. Load one widget alone with `widgets/<tag>.js`. */
export { ClickCounter } from "./click-counter/click-counter.ts";
export { StreamFeed } from "./stream-feed/stream-feed.ts";
export { VideoGallery } from "./video-gallery/video-gallery.ts";
export { EdgeChat } from "./edge-chat/edge-chat.ts";
export { ScheduleForm } from "./schedule-form/schedule-form.ts";
