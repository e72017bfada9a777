/** Defines every edge-widgets element. Load one widget alone with `widgets/<tag>.js`. */
export { ClickCounter } from "./click-counter/click-counter.ts";
export { ScheduleForm } from "./schedule-form/schedule-form.ts";
