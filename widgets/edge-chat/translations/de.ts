import { list, plural, seconds } from "../../internal/counted-text.ts";
import type { ChatStrings } from "../edge-chat.ts";

export default (locale: string): ChatStrings => {
  const inSeconds = seconds(locale);
  const number = new Intl.NumberFormat(locale);
  const names = list(locale);
  return {
    nameLegend: "Am Chat teilnehmen",
    nameLabel: "Dein Name",
    join: "Beitreten",
    changeName: "Namen ändern",
    messageLabel: "Nachricht",
    messagesLabel: "Nachrichten",
    placeholder: "Nachricht schreiben … (Enter sendet, Umschalt+Enter für eine neue Zeile)",
    send: "Senden",
    loadOlder: "Ältere Nachrichten laden",
    loading: "Wird geladen …",
    olderLater: (count) => `Zu viele ältere Seiten auf einmal: Versuch es in ${inSeconds(count)} noch einmal.`,
    beginning: "Hier beginnt der Raum.",
    empty: "Noch keine Nachrichten. Sag Hallo!",
    people: plural(locale, { one: "# Person hier", other: "# Personen hier" }),
    you: "du",
    verified: "verifiziert",
    newMessages: plural(locale, { one: "# neue Nachricht", other: "# neue Nachrichten" }),
    typing: (who) => (who.length === 1 ? `${who[0]} schreibt …` : who.length <= 3 ? `${names(who)} schreiben …` : "Mehrere Personen schreiben …"),
    pending: "Wird gesendet …",
    sent: "Gesendet",
    waiting: (count) => `Zu schnell gesendet: neuer Versuch in ${inSeconds(count)}`,
    refused: (reason) => `Nicht gesendet: ${reason}`,
    stale: "vor über einer Woche geschrieben",
    retry: "Erneut versuchen",
    discard: "Verwerfen",
    queued: plural(locale, {
      one: "Offline: # Nachricht wird gesendet, sobald die Verbindung wieder da ist.",
      other: "Offline: # Nachrichten werden gesendet, sobald die Verbindung wieder da ist.",
    }),
    reconnecting: "Verbindung wird wiederhergestellt …",
    unavailable: (reason) => `Chat nicht verfügbar: ${reason}`,
    busy: (reason) => `Chat ausgelastet: ${reason}`,
    closed: (code) => `geschlossen (${code})`,
    tryLater: "bitte später erneut versuchen",
    tooLong: (max) => `Nachrichten haben höchstens ${number.format(max)} Zeichen.`,
    badName: (max) => `Namen haben 1–${number.format(max)} Zeichen.`,
    badRoom: "Dieser Chat braucht einen Raumnamen aus 1–64 Buchstaben, Ziffern, Punkten, Binde- oder Unterstrichen, nicht nur aus Punkten.",
    badEndpoint: (reason) => `Ungültiger Endpunkt: ${reason}`,
  };
};
