import { list, plural, seconds } from "../../internal/counted-text.ts";
import type { ChatStrings } from "../edge-chat.ts";

export default (locale: string): ChatStrings => {
  const inSeconds = seconds(locale);
  const number = new Intl.NumberFormat(locale);
  const names = list(locale);
  return {
    nameLegend: "Únete al chat",
    nameLabel: "Tu nombre",
    join: "Unirse",
    changeName: "Cambiar nombre",
    messageLabel: "Mensaje",
    messagesLabel: "Mensajes",
    placeholder: "Escribe un mensaje… (Intro para enviar, Mayús+Intro para una línea nueva)",
    send: "Enviar",
    loadOlder: "Cargar mensajes anteriores",
    loading: "Cargando…",
    olderLater: (count) => `Demasiadas páginas anteriores a la vez: vuelve a intentarlo en ${inSeconds(count)}.`,
    beginning: "Este es el comienzo de la sala.",
    empty: "Aún no hay mensajes. ¡Saluda!",
    people: plural(locale, { one: "# persona aquí", other: "# personas aquí" }),
    you: "tú",
    verified: "verificado",
    newMessages: plural(locale, { one: "# mensaje nuevo", other: "# mensajes nuevos" }),
    typing: (who) =>
      who.length === 1 ? `${who[0]} está escribiendo…` : who.length <= 3 ? `${names(who)} están escribiendo…` : "Varias personas están escribiendo…",
    pending: "Enviando…",
    sent: "Enviado",
    waiting: (count) => `Envías demasiado rápido: se reintentará en ${inSeconds(count)}`,
    refused: (reason) => `No enviado: ${reason}`,
    stale: "escrito hace más de una semana",
    retry: "Reintentar",
    discard: "Descartar",
    queued: plural(locale, {
      one: "Sin conexión: # mensaje se enviará cuando vuelva la conexión.",
      other: "Sin conexión: # mensajes se enviarán cuando vuelva la conexión.",
    }),
    reconnecting: "Reconectando…",
    unavailable: (reason) => `Chat no disponible: ${reason}`,
    busy: (reason) => `Chat ocupado: ${reason}`,
    closed: (code) => `cerrado (${code})`,
    tryLater: "inténtalo más tarde",
    tooLong: (max) => `Los mensajes tienen como máximo ${number.format(max)} caracteres.`,
    badName: (max) => `Los nombres tienen de 1 a ${number.format(max)} caracteres.`,
    badRoom: "Este chat necesita un nombre de sala de 1 a 64 letras, dígitos, puntos, guiones o guiones bajos, no solo puntos.",
    badEndpoint: (reason) => `Punto de acceso no válido: ${reason}`,
  };
};
