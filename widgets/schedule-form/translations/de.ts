import { plural } from "../../internal/counted-text.ts";
import type { ScheduleStrings } from "../schedule-form.ts";

const EVERY_ONE = { day: "Jeden Tag", hour: "Jede Stunde", minute: "Jede Minute", second: "Jede Sekunde" };

export default (locale: string): ScheduleStrings => {
  const left = plural(locale, { one: "# Durchlauf", other: "# Durchläufe" });
  return {
    when: "Wann",
    firstRun: "Erster Durchlauf",
    repeat: "Wiederholen",
    noRepeat: "Keine Wiederholung",
    everyMinutes: "Alle N Minuten",
    everyHours: "Alle N Stunden",
    everyDays: "Alle N Tage",
    cronOption: "Cron-Muster (für Fortgeschrittene)",
    interval: "N",
    runs: "Durchläufe",
    cronLabel: "Cron-Muster (Minute Stunde Tag Monat Wochentag)",
    cronField: "Cron-Muster",
    cronHint: "Fünf Felder: Minute Stunde Tag-des-Monats Monat Wochentag, z. B. 0 9 * * 1-5",
    cronZone: (zone) => `In deiner Zeitzone, ${zone}.`,
    timesZone: (zone) => `Zeiten gelten in deiner Zeitzone, ${zone}.`,
    submit: "Planen",
    listLabel: "Deine Zeitpläne",
    badTarget: "Dieses Formular hat kein gültiges Ziel; die Seite muss target setzen.",
    future: "Wähle einen Zeitpunkt in der Zukunft.",
    check: (label, problem) => `Prüfe „${label}“: ${problem}`,
    checkForm: "Prüfe das Formular.",
    scheduling: "Wird geplant …",
    scheduledFor: (time) => `Geplant für ${time}.`,
    scheduled: "Geplant.",
    notScheduled: (reason) => `Nicht geplant: ${reason}`,
    notCancelled: (reason) => `Nicht abgebrochen: ${reason}`,
    cancelled: "Abgebrochen.",
    couldNotLoad: (reason) => `Konnte nicht geladen werden: ${reason}`,
    unreachable: "der Planer ist nicht erreichbar. Prüfe deine Verbindung und versuche es erneut.",
    answered: (status) => `der Planer antwortete mit ${status}.`,
    cron: (pattern, zone) => `Cron „${pattern}“ (${zone})`,
    every: (count, unit) =>
      count === 1 ? EVERY_ONE[unit] : `Alle ${new Intl.NumberFormat(locale, { style: "unit", unit, unitDisplay: "long" }).format(count)}`,
    once: "Einmalig",
    runsLeft: (remaining, times) => `noch ${left(remaining)} von ${new Intl.NumberFormat(locale).format(times)}`,
    until: (time) => `bis ${time}`,
    comma: ", ",
    notRunYet: "Noch nicht ausgeführt",
    delivered: (time) => `Zugestellt ${time}`,
    failed: (time, reason) => `Fehlgeschlagen ${time}: ${reason}`,
    status: (code) => `Status ${code}`,
    next: (time) => `Nächster: ${time}`,
    finished: "Abgeschlossen",
    cancel: "Abbrechen",
    cancelLabel: (schedule) => `Abbrechen: Zeitplan ${schedule}`,
  };
};
