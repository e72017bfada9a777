// What test/backends.ts hands every suite through `inject`.
import "vitest";

declare module "vitest" {
  export interface ProvidedContext {
    /** A backend under wrangler dev with generous rate limits. */
    endpoint: string;
    /** A backend that refuses after a few clicks. */
    strictEndpoint: string;
    /** The Worker bundled once (`bundleWorker`), for `startServe`'s `bundle`. */
    serveBundle: string;
  }
}
