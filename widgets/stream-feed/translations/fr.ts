import type { FeedStrings } from "../stream-feed.ts";

export default (): FeedStrings => ({
  itemsLabel: "Flux",
  badStream: "Ce flux a besoin d’un chemin de stream : 1 à 8 noms de 1 à 64 lettres, chiffres, points, tirets ou traits de soulignement (pas seulement des points), reliés par /.",
  badEndpoint: (reason) => `Point d’accès incorrect : ${reason}`,
  private: (reason) => `Ce flux est privé : ${reason}`,
  ended: "Ce flux est terminé.",
  paused: "En pause tant que la page est masquée.",
  waiting: "En attente de la création de ce stream…",
  empty: "Aucun élément pour l’instant.",
});
