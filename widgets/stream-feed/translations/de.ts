import type { FeedStrings } from "../stream-feed.ts";

export default (): FeedStrings => ({
  itemsLabel: "Feed",
  badStream: "Dieser Feed braucht einen Stream-Pfad: 1–8 Namen aus 1–64 Buchstaben, Ziffern, Punkten, Binde- oder Unterstrichen (nicht nur Punkte), verbunden mit /.",
  badEndpoint: (reason) => `Ungültiger Endpunkt: ${reason}`,
  private: (reason) => `Dieser Feed ist privat: ${reason}`,
  ended: "Dieser Feed ist beendet.",
  paused: "Pausiert, solange die Seite verborgen ist.",
  waiting: "Warte darauf, dass dieser Stream angelegt wird …",
  empty: "Noch keine Einträge.",
});
