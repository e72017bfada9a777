import { isolate, plural } from "../../internal/counted-text.ts";
import type { ScheduleStrings } from "../schedule-form.ts";

const EVERY_ONE = { day: "كل يوم", hour: "كل ساعة", minute: "كل دقيقة", second: "كل ثانية" };

export default (locale: string): ScheduleStrings => {
  const number = new Intl.NumberFormat(locale);
  const left = plural(locale, {
    zero: "لم يتبقَّ أي تشغيل",
    one: "تبقّى تشغيل واحد",
    two: "تبقّى تشغيلان",
    few: "تبقّت # تشغيلات",
    many: "تبقّى # تشغيلًا",
    other: "تبقّى # تشغيل",
  });
  return {
    when: "الموعد",
    firstRun: "أول تشغيل",
    repeat: "التكرار",
    noRepeat: "بلا تكرار",
    everyMinutes: "كل N دقيقة",
    everyHours: "كل N ساعة",
    everyDays: "كل N يوم",
    cronOption: "نمط cron (متقدّم)",
    interval: "N",
    runs: "عدد مرات التشغيل",
    cronLabel: "نمط cron (الدقيقة الساعة اليوم الشهر يوم-الأسبوع)",
    cronField: "نمط cron",
    cronHint: "خمسة حقول: الدقيقة الساعة يوم-الشهر الشهر يوم-الأسبوع، مثل 0 9 * * 1-5",
    cronZone: (zone) => `بحسب منطقتك الزمنية، ${isolate(zone)}.`,
    timesZone: (zone) => `الأوقات بحسب منطقتك الزمنية، ${isolate(zone)}.`,
    submit: "جدولة",
    listLabel: "جداولك",
    badTarget: "ليس لهذا النموذج هدف صالح؛ يجب أن تحدد الصفحة target.",
    future: "اختر وقتًا في المستقبل.",
    check: (label, problem) => `راجع «${isolate(label)}»: ${isolate(problem)}`,
    checkForm: "راجع النموذج.",
    scheduling: "جارٍ الجدولة…",
    scheduledFor: (time) => `تمت الجدولة في ${time}.`,
    scheduled: "تمت الجدولة.",
    notScheduled: (reason) => `لم تتم الجدولة: ${isolate(reason)}`,
    notCancelled: (reason) => `لم يتم الإلغاء: ${isolate(reason)}`,
    cancelled: "تم الإلغاء.",
    couldNotLoad: (reason) => `تعذّر التحميل: ${isolate(reason)}`,
    unreachable: "تعذّر الوصول إلى المُجدوِل. تحقّق من اتصالك وحاول مرة أخرى.",
    answered: (status) => `ردّ المُجدوِل بالرمز ${status}.`,
    cron: (pattern, zone) => `cron «${isolate(pattern)}» (${isolate(zone)})`,
    every: (count, unit) =>
      count === 1 ? EVERY_ONE[unit] : `كل ${new Intl.NumberFormat(locale, { style: "unit", unit, unitDisplay: "long" }).format(count)}`,
    once: "مرة واحدة",
    runsLeft: (remaining, times) => `${left(remaining)} من ${number.format(times)}`,
    until: (time) => `حتى ${time}`,
    comma: "، ",
    notRunYet: "لم يُشغَّل بعد",
    delivered: (time) => `سُلِّم في ${time}`,
    failed: (time, reason) => `فشل في ${time}: ${isolate(reason)}`,
    status: (code) => `الحالة ${code}`,
    next: (time) => `التالي: ${time}`,
    finished: "انتهى",
    cancel: "إلغاء",
    cancelLabel: (schedule) => `إلغاء الجدول: ${schedule}`,
  };
};
