/**
 * `npm run token -- <read|write> [stream] [--expires 1h]`: prints a stream token for local use,
 * signed with STREAMS_JWT_SECRET from the environment or else the public dev secret (which
 * only `npm start` accepts: the local runner sets LOCAL_DEV). Without a stream the token is good for every stream.
 */
import { parseArgs } from "node:util";
import { isStreamPath } from "../contract/names.ts";
import { decodeJwt } from "jose";
import { DEFAULT_MAX_LIFETIME_SECONDS } from "../edge/http/tokens.ts";
import { DEV_STREAMS_SECRET, mintStreamToken } from "../edge/streams/tokens.ts";

const { values, positionals } = parseArgs({ allowPositionals: true, options: { expires: { type: "string", default: "1h" } } });
const [scope, stream] = positionals;
if ((scope !== "read" && scope !== "write") || positionals.length > 2 || (stream !== undefined && !isStreamPath(stream))) {
  console.error("usage: npm run token -- <read|write> [stream] [--expires 1h]");
  process.exit(2);
}
const secret = process.env.STREAMS_JWT_SECRET || DEV_STREAMS_SECRET;
if (!process.env.STREAMS_JWT_SECRET) console.error("(signed with the local dev secret: good only against npm start, a backend with LOCAL_DEV)");
const token = await mintStreamToken(secret, { scope, ...(stream !== undefined && { stream }) }, values.expires);
// The backend refuses a token that lives longer than its TOKEN_MAX_LIFETIME_SECONDS: say so here.
const maxLifetime = Number(process.env.TOKEN_MAX_LIFETIME_SECONDS || DEFAULT_MAX_LIFETIME_SECONDS);
const { exp, iat } = decodeJwt(token);
if (exp! - iat! > maxLifetime) {
  console.error(`--expires ${values.expires} is longer than TOKEN_MAX_LIFETIME_SECONDS (${maxLifetime} s): the backend would refuse the token.`);
  process.exit(2);
}
console.log(token);
