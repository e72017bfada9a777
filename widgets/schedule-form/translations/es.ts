import { plural } from "../../internal/counted-text.ts";
import type { ScheduleStrings } from "../schedule-form.ts";

const EVERY_ONE = { day: "Cada día", hour: "Cada hora", minute: "Cada minuto", second: "Cada segundo" };

export default (locale: string): ScheduleStrings => {
  const left = plural(locale, { one: "queda # ejecución", other: "quedan # ejecuciones" });
  return {
    when: "Cuándo",
    firstRun: "Primera ejecución",
    repeat: "Repetir",
    noRepeat: "No se repite",
    everyMinutes: "Cada N minutos",
    everyHours: "Cada N horas",
    everyDays: "Cada N días",
    cronOption: "Patrón cron (avanzado)",
    interval: "N",
    runs: "Ejecuciones",
    cronLabel: "Patrón cron (minuto hora día mes día-de-la-semana)",
    cronField: "Patrón cron",
    cronHint: "Cinco campos: minuto hora día-del-mes mes día-de-la-semana, p. ej. 0 9 * * 1-5",
    cronZone: (zone) => `En tu zona horaria, ${zone}.`,
    timesZone: (zone) => `Las horas están en tu zona horaria, ${zone}.`,
    submit: "Programar",
    listLabel: "Tus programaciones",
    badTarget: "Este formulario no tiene un destino válido; la página debe definir target.",
    future: "Elige un momento en el futuro.",
    check: (label, problem) => `Revisa «${label}»: ${problem}`,
    checkForm: "Revisa el formulario.",
    scheduling: "Programando…",
    scheduledFor: (time) => `Programado para el ${time}.`,
    scheduled: "Programado.",
    notScheduled: (reason) => `No programado: ${reason}`,
    notCancelled: (reason) => `No cancelado: ${reason}`,
    cancelled: "Cancelado.",
    couldNotLoad: (reason) => `No se pudo cargar: ${reason}`,
    unreachable: "no se puede contactar con el programador. Comprueba tu conexión y vuelve a intentarlo.",
    answered: (status) => `el programador respondió ${status}.`,
    cron: (pattern, zone) => `Cron «${pattern}» (${zone})`,
    every: (count, unit) =>
      count === 1 ? EVERY_ONE[unit] : `Cada ${new Intl.NumberFormat(locale, { style: "unit", unit, unitDisplay: "long" }).format(count)}`,
    once: "Una vez",
    runsLeft: (remaining, times) => `${left(remaining)} de ${new Intl.NumberFormat(locale).format(times)}`,
    until: (time) => `hasta el ${time}`,
    comma: ", ",
    notRunYet: "Aún no se ha ejecutado",
    delivered: (time) => `Entregado el ${time}`,
    failed: (time, reason) => `Falló el ${time}: ${reason}`,
    status: (code) => `estado ${code}`,
    next: (time) => `Próxima: ${time}`,
    finished: "Terminado",
    cancel: "Cancelar",
    cancelLabel: (schedule) => `Cancelar la programación: ${schedule}`,
  };
};
