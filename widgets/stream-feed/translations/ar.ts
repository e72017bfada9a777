import { isolate } from "../../internal/counted-text.ts";
import type { FeedStrings } from "../stream-feed.ts";

export default (locale: string): FeedStrings => {
  const number = new Intl.NumberFormat(locale);
  return {
    itemsLabel: "الموجز",
    badStream: `يحتاج هذا الموجز إلى مسار بث: من ${number.format(1)} إلى ${number.format(8)} أسماء، كل منها من ${number.format(1)} إلى ${number.format(64)} من الأحرف أو الأرقام أو النقاط أو الشرطات أو الشرطات السفلية (وليس نقاطًا فقط)، مفصولة بـ /.`,
    badEndpoint: (reason) => `نقطة اتصال غير صالحة: ${isolate(reason)}`,
    private: (reason) => `هذا الموجز خاص: ${isolate(reason)}`,
    ended: "انتهى هذا الموجز.",
    paused: "متوقف مؤقتًا ما دامت الصفحة مخفية.",
    waiting: "في انتظار إنشاء هذا البث…",
    empty: "لا توجد عناصر بعد.",
  };
};
