import { seconds } from "../../internal/counted-text.ts";
import type { CounterStrings } from "../click-counter.ts";

export default (locale: string): CounterStrings => {
  const inSeconds = seconds(locale);
  return {
    add: "+1",
    offline: "Hors ligne : trop de clics attendent d’être envoyés.",
    badName: "Ce compteur a besoin d’un nom de 1 à 64 lettres, chiffres, points, tirets ou traits de soulignement, pas seulement des points.",
    badEndpoint: (reason) => `Point d’accès incorrect : ${reason}`,
    unavailable: (reason) => `Compteur indisponible : ${reason}`,
    busy: (reason) => `Compteur occupé : ${reason}`,
    closed: (code) => `fermé (${code})`,
    tryLater: "réessayez plus tard",
    tooMany: (count) => `Trop de clics. Réessayez dans ${inSeconds(count)}.`,
    watching: (count) => `≈ ${count} spectateurs`,
    watchingSpoken: (count) => `environ ${count} spectateurs (approximatif)`,
  };
};
