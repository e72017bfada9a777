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

type Method = "GET" | "POST" | "PUT" | "DELETE" | "HEAD";

interface Route {
  pattern: URLPattern;
  handlers: Partial<Record<Method, Handler>>;
}

/**
 * A route table: each path pattern lists its handlers per method. A path that matches with
 * the wrong method is a 405 with `Allow`; no match at all returns `undefined` so the caller
 * can fall through to static assets.
 */
export class Router {
  private routes: Route[] = [];

  on(path: string, handlers: Partial<Record<Method, Handler>>): this {
    this.routes.push({ pattern: new URLPattern({ pathname: path }), handlers });
    return this;
  }

  async handle(request: Request, env: Env, ctx: ExecutionContext): Promise<Response | undefined> {
    const url = new URL(request.url);
    for (const route of this.routes) {
      const match = route.pattern.exec({ pathname: url.pathname });
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
