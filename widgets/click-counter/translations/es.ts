import { seconds } from "../../internal/counted-text.ts";
import type { CounterStrings } from "../click-counter.ts";

export default (locale: string): CounterStrings => {
  const inSeconds = seconds(locale);
  return {
    add: "+1",
    offline: "Sin conexión: hay demasiados clics esperando para enviarse.",
    badName: "Este contador necesita un nombre de 1 a 64 letras, dígitos, puntos, guiones o guiones bajos, no solo puntos.",
    badEndpoint: (reason) => `Punto de acceso no válido: ${reason}`,
    unavailable: (reason) => `Contador no disponible: ${reason}`,
    busy: (reason) => `Contador ocupado: ${reason}`,
    closed: (code) => `cerrado (${code})`,
    tryLater: "inténtalo más tarde",
    tooMany: (count) => `Demasiados clics. Vuelve a intentarlo en ${inSeconds(count)}.`,
    watching: (count) => `≈ ${count} mirando`,
    watchingSpoken: (count) => `unas ${count} personas mirando (aproximado)`,
  };
};
