import { plural } from "../../internal/counted-text.ts";
import type { ScheduleStrings } from "../schedule-form.ts";

const EVERY_ONE = { day: "Chaque jour", hour: "Chaque heure", minute: "Chaque minute", second: "Chaque seconde" };

export default (locale: string): ScheduleStrings => {
  const left = plural(locale, { one: "# exécution restante", other: "# exécutions restantes" });
  return {
    when: "Quand",
    firstRun: "Première exécution",
    repeat: "Répétition",
    noRepeat: "Ne se répète pas",
    everyMinutes: "Toutes les N minutes",
    everyHours: "Toutes les N heures",
    everyDays: "Tous les N jours",
    cronOption: "Motif cron (avancé)",
    interval: "N",
    runs: "Exécutions",
    cronLabel: "Motif cron (minute heure jour mois jour-de-la-semaine)",
    cronField: "Motif cron",
    cronHint: "Cinq champs : minute heure jour-du-mois mois jour-de-la-semaine, par ex. 0 9 * * 1-5",
    cronZone: (zone) => `Dans votre fuseau horaire, ${zone}.`,
    timesZone: (zone) => `Les heures sont dans votre fuseau horaire, ${zone}.`,
    submit: "Planifier",
    listLabel: "Vos planifications",
    badTarget: "Ce formulaire n’a pas de cible valide ; la page doit définir target.",
    future: "Choisissez un moment dans le futur.",
    check: (label, problem) => `Vérifiez « ${label} » : ${problem}`,
    checkForm: "Vérifiez le formulaire.",
    scheduling: "Planification…",
    scheduledFor: (time) => `Planifié pour le ${time}.`,
    scheduled: "Planifié.",
    notScheduled: (reason) => `Non planifié : ${reason}`,
    notCancelled: (reason) => `Non annulé : ${reason}`,
    cancelled: "Annulé.",
    couldNotLoad: (reason) => `Chargement impossible : ${reason}`,
    unreachable: "le planificateur est injoignable. Vérifiez votre connexion et réessayez.",
    answered: (status) => `le planificateur a répondu ${status}.`,
    cron: (pattern, zone) => `Cron « ${pattern} » (${zone})`,
    every: (count, unit) =>
      count === 1
        ? EVERY_ONE[unit]
        : `${unit === "day" ? "Tous" : "Toutes"} les ${new Intl.NumberFormat(locale, { style: "unit", unit, unitDisplay: "long" }).format(count)}`,
    once: "Une fois",
    runsLeft: (remaining, times) => `${left(remaining)} sur ${new Intl.NumberFormat(locale).format(times)}`,
    until: (time) => `jusqu’au ${time}`,
    comma: ", ",
    notRunYet: "Pas encore exécuté",
    delivered: (time) => `Livré le ${time}`,
    failed: (time, reason) => `Échec le ${time} : ${reason}`,
    status: (code) => `statut ${code}`,
    next: (time) => `Prochaine : ${time}`,
    finished: "Terminé",
    cancel: "Annuler",
    cancelLabel: (schedule) => `Annuler la planification : ${schedule}`,
  };
};
