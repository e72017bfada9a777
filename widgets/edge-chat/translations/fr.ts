import { list, plural, seconds } from "../../internal/counted-text.ts";
import type { ChatStrings } from "../edge-chat.ts";

export default (locale: string): ChatStrings => {
  const inSeconds = seconds(locale);
  const number = new Intl.NumberFormat(locale);
  const names = list(locale);
  return {
    nameLegend: "Rejoindre la discussion",
    nameLabel: "Votre nom",
    join: "Rejoindre",
    changeName: "Changer de nom",
    messageLabel: "Message",
    messagesLabel: "Messages",
    placeholder: "Écrivez un message… (Entrée pour envoyer, Maj+Entrée pour aller à la ligne)",
    send: "Envoyer",
    loadOlder: "Charger les messages précédents",
    loading: "Chargement…",
    olderLater: (count) => `Trop de pages anciennes demandées à la fois : réessayez dans ${inSeconds(count)}.`,
    beginning: "C’est le début du salon.",
    empty: "Aucun message pour l’instant. Dites bonjour !",
    people: plural(locale, { one: "# personne ici", other: "# personnes ici" }),
    you: "vous",
    verified: "vérifié",
    newMessages: plural(locale, { one: "# nouveau message", other: "# nouveaux messages" }),
    typing: (who) => (who.length === 1 ? `${who[0]} écrit…` : who.length <= 3 ? `${names(who)} écrivent…` : "Plusieurs personnes écrivent…"),
    pending: "Envoi…",
    sent: "Envoyé",
    waiting: (count) => `Envoi trop rapide : nouvel essai dans ${inSeconds(count)}`,
    refused: (reason) => `Non envoyé : ${reason}`,
    stale: "écrit il y a plus d’une semaine",
    retry: "Réessayer",
    discard: "Abandonner",
    queued: plural(locale, {
      one: "Hors ligne : # message sera envoyé dès le retour de la connexion.",
      other: "Hors ligne : # messages seront envoyés dès le retour de la connexion.",
    }),
    reconnecting: "Reconnexion…",
    unavailable: (reason) => `Discussion indisponible : ${reason}`,
    busy: (reason) => `Discussion surchargée : ${reason}`,
    closed: (code) => `fermée (${code})`,
    tryLater: "réessayez plus tard",
    tooLong: (max) => `Un message compte au plus ${number.format(max)} caractères.`,
    badName: (max) => `Un nom compte de 1 à ${number.format(max)} caractères.`,
    badRoom: "Cette discussion a besoin d’un nom de salon de 1 à 64 lettres, chiffres, points, tirets ou traits de soulignement, pas seulement des points.",
    badEndpoint: (reason) => `Point d’accès incorrect : ${reason}`,
  };
};
