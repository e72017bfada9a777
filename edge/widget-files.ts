import type { Handler } from "./router.ts";
import { notFound } from "./http/errors.ts";

/**
 * The widget bundles from `dist/`: `/widgets.js`, `/<chunk>` and `/widgets/<file>` (the same
 * files under the prefix users put in their script tags, so relative chunk imports resolve
 * under either path).
 */
export const serveWidgetFile: Handler = async ({ env, request, url }) => {
  const path = url.pathname.startsWith("/widgets/") ? url.pathname.slice("/widgets".length) : url.pathname;
  if (!path.endsWith(".js")) throw notFound(`No widget file at ${url.pathname}.`);
  const asset = await env.ASSETS.fetch(new Request(new URL(path, url), request));
  if (asset.status === 404) throw notFound(`No widget file at ${url.pathname}.`);
  return asset;
};
