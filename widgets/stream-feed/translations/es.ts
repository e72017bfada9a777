import type { FeedStrings } from "../stream-feed.ts";

export default (): FeedStrings => ({
  itemsLabel: "Canal",
  badStream: "Este canal necesita una ruta de stream: de 1 a 8 nombres de 1 a 64 letras, dígitos, puntos, guiones o guiones bajos (no solo puntos), unidos por /.",
  badEndpoint: (reason) => `Punto de acceso no válido: ${reason}`,
  private: (reason) => `Este canal es privado: ${reason}`,
  ended: "Este canal ha terminado.",
  paused: "En pausa mientras la página está oculta.",
  waiting: "Esperando a que se cree este stream…",
  empty: "Aún no hay elementos.",
});
