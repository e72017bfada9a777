/**
 * `npm run upload-token [subject]`: prints a short-lived video upload token (HS256, 10 minutes,
 * `aud: "edge-widgets:video-upload"`, `scope: "video:upload"`) signed with VIDEO_UPLOAD_SECRET
 * from the environment or `.dev.vars`. A host site mints the same token server-side for its
 * signed-in members.
 */
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { mintToken } from "../edge/http/tokens.ts";
import { root } from "./backend.ts";

function secret(): string | undefined {
  if (process.env.VIDEO_UPLOAD_SECRET) return process.env.VIDEO_UPLOAD_SECRET;
  const devVars = resolve(root, ".dev.vars");
  if (!existsSync(devVars)) return undefined;
  const line = readFileSync(devVars, "utf8").split("\n").find((l) => l.startsWith("VIDEO_UPLOAD_SECRET="));
  return line?.slice("VIDEO_UPLOAD_SECRET=".length).trim().replace(/^"(.*)"$/, "$1");
}

const key = secret();
if (!key) {
  console.error("Set VIDEO_UPLOAD_SECRET (environment or .dev.vars) to the backend's secret first.");
  process.exit(1);
}
console.log(await mintToken(key, "videoUpload", { scope: "video:upload", sub: process.argv[2] ?? "local-user" }, "10m"));
