import type { Env } from "./env.ts";
import { Refusal } from "./http/refusal.ts";

export interface RouteContext {
  request: Request;
  env: Env;
  ctx: ExecutionContext;
  url: URL;
  params: Record<string, string | undefined>;
}

export type Handler = (route: RouteContext) => Response | Promise<Response>;

type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE" | "HEAD";

/** One path's handlers, per method. */
export type Methods = Partial<Record<Method, Handler>>;

/** A feature's routes: path pattern → method → handler, tried in the order written. */
export type Routes = Record<string, Methods>;

/**
 * A check that runs before a handler and throws a Refusal to stop it, declared on the route:
 * `{ GET: admin(listBans) }`.
 */
export const guard =
  (check: (route: RouteContext) => unknown) =>
  (handler: Handler): Handler =>
  async (route) => {
    await check(route);
    return handler(route);
  };

interface Route {
  pattern: URLPattern;
  /** The literal start every path this pattern matches has: a cheap test before the pattern's own. */
  prefix: string;
  handlers: Methods;
}

/**
 * The literal characters a path pattern starts with, up to its first special one. The last is
 * left out too, since a modifier (`?`, `+`, `*`) may make the character before it optional.
 */
export function literalPrefix(pattern: string): string {
  const special = pattern.search(/[:*?+(){}\\]/);
  return special === -1 ? pattern : pattern.slice(0, Math.max(0, special - 1));
}

/**
 * The route table of the Worker: each feature's routes, mounted in order. A path that matches
 * with the wrong method is a 405 with `Allow`; no match at all returns `undefined` so the
 * caller can fall through to static assets.
 */
export class Router {
  private routes: Route[] = [];

  mount(routes: Routes): this {
    for (const [path, handlers] of Object.entries(routes)) {
      this.routes.push({ pattern: new URLPattern({ pathname: path }), prefix: literalPrefix(path), handlers });
    }
    return this;
  }

  /** `url` is the request's, parsed once by the caller. */
  async handle(request: Request, env: Env, ctx: ExecutionContext, url = new URL(request.url)): Promise<Response | undefined> {
    const path = url.pathname;
    for (const route of this.routes) {
      // Most routes cannot match; skipping them by their prefix spares a pattern match each.
      if (!path.startsWith(route.prefix)) continue;
      const match = route.pattern.exec({ pathname: path });
      if (!match) continue;
      const method = request.method as Method;
      const handler = route.handlers[method] ?? (method === "HEAD" ? route.handlers.GET : undefined);
      if (!handler) {
        const allow = Object.keys(route.handlers).join(", ");
        throw new Refusal("method_not_allowed", `Use ${allow} on ${url.pathname}.`, { headers: { Allow: allow } });
      }
      return handler({ request, env, ctx, url, params: match.pathname.groups });
    }
    return undefined;
  }
}
