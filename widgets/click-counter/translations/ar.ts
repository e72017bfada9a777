import { isolate, seconds } from "../../internal/counted-text.ts";
import type { CounterStrings } from "../click-counter.ts";

export default (locale: string): CounterStrings => {
  const inSeconds = seconds(locale);
  return {
    add: "+1",
    offline: "غير متصل: عدد كبير جدًا من النقرات ينتظر الإرسال.",
    badName: "يحتاج هذا العدّاد إلى اسم من 1 إلى 64 حرفًا أو رقمًا أو نقطة أو شرطة أو شرطة سفلية، وليس نقاطًا فقط.",
    badEndpoint: (reason) => `نقطة اتصال غير صالحة: ${isolate(reason)}`,
    unavailable: (reason) => `العدّاد غير متاح: ${isolate(reason)}`,
    busy: (reason) => `العدّاد مشغول: ${isolate(reason)}`,
    closed: (code) => `مغلق (${code})`,
    tryLater: "حاول مرة أخرى لاحقًا",
    tooMany: (count) => `نقرات كثيرة جدًا. حاول مرة أخرى بعد ${inSeconds(count)}.`,
    watching: (count) => `≈ ${count} يشاهدون`,
    watchingSpoken: (count) => `نحو ${count} يشاهدون (تقريبي)`,
  };
};
