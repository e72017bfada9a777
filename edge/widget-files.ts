import type { Handler, Routes } from "./router.ts";
import { notFound } from "./http/refusal.ts";

/**
 * The widget bundles from `dist/`: `/widgets.js`, `/<chunk>` and `/widgets/<file>` (the same
 * files under the prefix users put in their script tags, so relative chunk imports resolve
 * under either path). They are public code fetched without credentials, so any origin may
 * load them: a page whose origin is not in ALLOWED_ORIGINS then gets a widget that says so,
 * instead of a script that silently fails to load.
 */
const serveWidgetFile: Handler = async ({ env, request, url }) => {
  const path = url.pathname.startsWith("/widgets/") ? url.pathname.slice("/widgets".length) : url.pathname;
  if (!path.endsWith(".js")) throw notFound(`No widget file at ${url.pathname}.`);
  const asset = await env.ASSETS.fetch(new Request(new URL(path, url), request));
  if (asset.status === 404) throw notFound(`No widget file at ${url.pathname}.`);
  const response = new Response(asset.body, asset);
  response.headers.set("Access-Control-Allow-Origin", "*");
  return response;
};

export const routes: Routes = {
  "/widgets.js": { GET: serveWidgetFile },
  "/widgets/*": { GET: serveWidgetFile },
  "/chunks/*": { GET: serveWidgetFile },
};
