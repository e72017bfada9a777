import { seconds } from "../../internal/counted-text.ts";
import type { CounterStrings } from "../click-counter.ts";

export default (locale: string): CounterStrings => {
  const inSeconds = seconds(locale);
  return {
    add: "+1",
    offline: "Offline: Zu viele Klicks warten darauf, gesendet zu werden.",
    badName: "Dieser Zähler braucht einen Namen aus 1–64 Buchstaben, Ziffern, Punkten, Binde- oder Unterstrichen, nicht nur aus Punkten.",
    badEndpoint: (reason) => `Ungültiger Endpunkt: ${reason}`,
    unavailable: (reason) => `Zähler nicht verfügbar: ${reason}`,
    busy: (reason) => `Zähler ausgelastet: ${reason}`,
    closed: (code) => `geschlossen (${code})`,
    tryLater: "bitte später erneut versuchen",
    tooMany: (count) => `Zu viele Klicks. Erneut möglich in ${inSeconds(count)}.`,
    watching: (count) => `≈ ${count} sehen zu`,
    watchingSpoken: (count) => `etwa ${count} sehen zu (ungefähr)`,
  };
};
