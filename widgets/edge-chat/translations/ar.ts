import { isolate, list, plural, seconds } from "../../internal/counted-text.ts";
import type { ChatStrings } from "../edge-chat.ts";

export default (locale: string): ChatStrings => {
  const inSeconds = seconds(locale);
  const number = new Intl.NumberFormat(locale);
  const names = list(locale);
  return {
    nameLegend: "انضم إلى الدردشة",
    nameLabel: "اسمك",
    join: "انضمام",
    changeName: "تغيير الاسم",
    messageLabel: "رسالة",
    messagesLabel: "الرسائل",
    placeholder: "اكتب رسالة… (Enter للإرسال، Shift+Enter لسطر جديد)",
    send: "إرسال",
    loadOlder: "تحميل الرسائل الأقدم",
    loading: "جارٍ التحميل…",
    olderLater: (count) => `طلبات كثيرة للرسائل الأقدم في وقت واحد: حاول مرة أخرى بعد ${inSeconds(count)}.`,
    beginning: "هذه بداية الغرفة.",
    empty: "لا توجد رسائل بعد. ألقِ التحية!",
    people: plural(locale, {
      zero: "لا أحد هنا",
      one: "شخص واحد هنا",
      two: "شخصان هنا",
      few: "# أشخاص هنا",
      many: "# شخصًا هنا",
      other: "# شخص هنا",
    }),
    you: "أنت",
    verified: "موثَّق",
    newMessages: plural(locale, {
      zero: "لا رسائل جديدة",
      one: "رسالة جديدة واحدة",
      two: "رسالتان جديدتان",
      few: "# رسائل جديدة",
      many: "# رسالة جديدة",
      other: "# رسالة جديدة",
    }),
    typing: (who) => (who.length === 1 ? `${isolate(who[0]!)} يكتب…` : who.length <= 3 ? `${names(who.map(isolate))} يكتبون…` : "عدة أشخاص يكتبون…"),
    pending: "جارٍ الإرسال…",
    sent: "أُرسلت",
    waiting: (count) => `إرسال سريع جدًا: إعادة المحاولة بعد ${inSeconds(count)}`,
    refused: (reason) => `لم تُرسَل: ${isolate(reason)}`,
    stale: "كُتبت قبل أكثر من أسبوع",
    retry: "إعادة المحاولة",
    discard: "تجاهل",
    queued: plural(locale, {
      one: "غير متصل: ستُرسَل رسالة واحدة عند عودة الاتصال.",
      two: "غير متصل: ستُرسَل رسالتان عند عودة الاتصال.",
      few: "غير متصل: ستُرسَل # رسائل عند عودة الاتصال.",
      other: "غير متصل: ستُرسَل # رسالة عند عودة الاتصال.",
    }),
    reconnecting: "جارٍ إعادة الاتصال…",
    unavailable: (reason) => `الدردشة غير متاحة: ${isolate(reason)}`,
    busy: (reason) => `الدردشة مشغولة: ${isolate(reason)}`,
    closed: (code) => `مغلقة (${code})`,
    tryLater: "حاول مرة أخرى لاحقًا",
    tooLong: (max) => `يجب ألا تتجاوز الرسالة ${number.format(max)} من الأحرف.`,
    badName: (max) => `يجب أن يتكون الاسم من ${number.format(1)} إلى ${number.format(max)} من الأحرف.`,
    badRoom: `تحتاج هذه الدردشة إلى اسم غرفة من ${number.format(1)} إلى ${number.format(64)} من الأحرف أو الأرقام أو النقاط أو الشرطات أو الشرطات السفلية، وليس نقاطًا فقط.`,
    badEndpoint: (reason) => `نقطة اتصال غير صالحة: ${isolate(reason)}`,
  };
};
