import { z } from "zod";
import { bearerToken } from "../http/admin.ts";
import { NAME_PATTERN, NAME_RULE, isStreamPath } from "../../contract/names.ts";
import { TOO_DEEP, readJsonText } from "../http/json-depth.ts";
import { Refusal, badRequest, unwrap } from "../http/refusal.ts";
import { readText } from "../http/validate.ts";
import type { Handler, RouteContext, Routes } from "../router.ts";
import { authorize } from "../streams/auth.ts";
import { isPattern } from "./glob.ts";
import { keyRegistry } from "./registry.ts";
import { noSuchSubscription, type SubscriptionInput, type WakeReport } from "./subscription.ts";
import { checkWebhookUrl } from "./webhooks.ts";

/**
 * The Durable Streams protocol's reserved control routes under `/v1/stream/__ds/`:
 * subscriptions (create, confirm, read, delete, link streams), their consumers' calls
 * (webhook callback; pull-wake claim, ack, release) and the webhook JWKS. Refusals use the
 * protocol's codes (`INVALID_REQUEST`, `FENCED`, ...) in the API's `{"error":{...}}` shape.
 *
 * Managing subscriptions needs a stream write token for all streams (or `ADMIN_TOKEN`)
 * unless `STREAMS_AUTH=off`; consumers authenticate with the wake's own token.
 */
export const CONTROL_PREFIX = "/v1/stream/__ds";

const MAX_BODY_BYTES = 64 * 1024;
const MAX_STREAMS = 1000;

const streamPath = z
  .string()
  .transform((path) => path.replace(/^\/+|\/+$/g, ""))
  .refine(isStreamPath, `stream paths are 1–8 names joined by /, each ${NAME_RULE}`);

const CreateBody = z
  .object({
    type: z.enum(["webhook", "pull-wake"], { error: 'type must be "webhook" or "pull-wake"' }),
    pattern: z
      .string()
      .transform((pattern) => pattern.replace(/^\/+|\/+$/g, ""))
      .refine(isPattern, "pattern is stream path segments, * (one segment) or ** (any number)")
      .optional(),
    streams: z.array(streamPath).max(MAX_STREAMS).optional(),
    webhook: z.object({ url: z.string().min(1).max(2048) }).optional(),
    wake_stream: streamPath.optional(),
    lease_ttl_ms: z.number().int().min(1000).max(600_000).default(30_000),
    description: z.string().max(1000).optional(),
  })
  .refine((body) => body.pattern !== undefined || (body.streams?.length ?? 0) > 0, "Send a pattern, streams, or both.")
  .refine((body) => body.type !== "webhook" || body.webhook !== undefined, "webhook subscriptions need webhook.url.")
  .refine((body) => body.type !== "pull-wake" || body.wake_stream !== undefined, "pull-wake subscriptions need wake_stream.");

const StreamsBody = z.object({ streams: z.array(streamPath).min(1).max(MAX_STREAMS) });
const ClaimBody = z.object({ worker: z.string().min(1).max(256) });
/** Checked field by field by the subscription, which alone knows the current wake. */
const Report = z.record(z.string(), z.unknown()) as z.ZodType<WakeReport>;

const invalid = (message: string) => badRequest(message, "INVALID_REQUEST");

async function body<T>(request: Request, schema: z.ZodType<T>): Promise<T> {
  const text = await readText(request, MAX_BODY_BYTES);
  let data: unknown = {};
  if (text.trim()) {
    const reading = readJsonText(text);
    if (!reading.ok) throw invalid(reading.problem === "too_deep" ? `The body nests too deep: ${TOO_DEEP}` : "The body is not valid JSON.");
    data = reading.value;
  }
  const parsed = schema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw invalid(issue.path.length ? `${issue.path.join(".")}: ${issue.message}` : issue.message);
  }
  return parsed.data;
}

/** The object of the subscription named in the path. */
const subscription = ({ env, params }: RouteContext) => env.SUBSCRIPTIONS.getByName(subscriptionId(params.id));

function subscriptionId(raw: string | undefined): string {
  let id = raw ?? "";
  try {
    id = decodeURIComponent(id);
  } catch {
    // Checked below.
  }
  if (!NAME_PATTERN.test(id)) throw invalid(`A subscription id is ${NAME_RULE}.`);
  return id;
}

/** Subscriptions see every stream they match, so managing them takes a token for all streams. */
async function mayManage(route: RouteContext): Promise<void> {
  try {
    await authorize(route.env, route.request, `${CONTROL_PREFIX}/subscriptions`, "write");
  } catch (error) {
    if (error instanceof Refusal && error.code === "unauthorized") {
      throw new Refusal("unauthorized", "Managing subscriptions needs a write token for all streams (Authorization: Bearer).", { headers: error.headers });
    }
    throw error;
  }
}

function wakeToken(request: Request): string {
  const token = bearerToken(request);
  if (token === undefined) throw new Refusal("TOKEN_INVALID", "Send the wake's token as Authorization: Bearer <token>.");
  return token;
}

const noContent = () => new Response(null, { status: 204 });

export const putSubscription: Handler = async (route) => {
  const stub = subscription(route);
  await mayManage(route);
  const input = await body(route.request, CreateBody);
  if (input.webhook) {
    const verdict = checkWebhookUrl(input.webhook.url, route.env);
    if (!verdict.ok) throw badRequest(verdict.reason, "WEBHOOK_URL_REJECTED");
  }
  const clean: SubscriptionInput = { type: input.type, streams: input.streams ?? [], lease_ttl_ms: input.lease_ttl_ms };
  if (input.pattern !== undefined) clean.pattern = input.pattern;
  if (input.webhook) clean.webhook = { url: input.webhook.url };
  if (input.wake_stream !== undefined) clean.wake_stream = input.wake_stream;
  if (input.description !== undefined) clean.description = input.description;
  const { created, description } = unwrap(await stub.create(clean, route.url.origin));
  return Response.json(description, { status: created ? 201 : 200 });
};

export const getSubscription: Handler = async (route) => {
  const stub = subscription(route);
  await mayManage(route);
  const described = await stub.describe();
  if (!described) throw noSuchSubscription();
  return Response.json(described);
};

export const deleteSubscription: Handler = async (route) => {
  const stub = subscription(route);
  await mayManage(route);
  await stub.remove();
  return noContent();
};

export const addStreams: Handler = async (route) => {
  const stub = subscription(route);
  await mayManage(route);
  const { streams } = await body(route.request, StreamsBody);
  if (!(await stub.addStreams(streams))) throw noSuchSubscription();
  return noContent();
};

export const removeStream: Handler = async (route) => {
  const stub = subscription(route);
  await mayManage(route);
  const raw = route.url.pathname.split("/streams/").slice(1).join("/streams/");
  const path = streamPath.safeParse(safeDecode(raw));
  if (!path.success) throw invalid("The stream path is not valid.");
  if (!(await stub.removeStream(path.data))) throw noSuchSubscription();
  return noContent();
};

/** A consumer's acknowledgement of its wake: a webhook callback, or a pull-wake ack. */
const acknowledgement =
  (kind: "callback" | "ack"): Handler =>
  async (route) => {
    const stub = subscription(route);
    const token = wakeToken(route.request);
    return Response.json(unwrap(await stub[kind](token, await body(route.request, Report))));
  };

export const callback = acknowledgement("callback");
export const ack = acknowledgement("ack");

export const release: Handler = async (route) => {
  const stub = subscription(route);
  const token = wakeToken(route.request);
  unwrap(await stub.release(token, await body(route.request, Report)));
  return noContent();
};

export const claim: Handler = async (route) => {
  const stub = subscription(route);
  await mayManage(route);
  const { worker } = await body(route.request, ClaimBody);
  return Response.json(unwrap(await stub.claim(worker)));
};

export const jwks: Handler = async ({ env }) =>
  new Response(JSON.stringify(await keyRegistry(env).jwks()), {
    headers: { "Content-Type": "application/jwk-set+json", "Cache-Control": "public, max-age=300" },
  });

/** Anything else under `__ds` is reserved: never a stream. */
export const unknownControlRoute: Handler = ({ url }) => {
  throw new Refusal("SUBSCRIPTION_NOT_FOUND", `There is no control route at ${url.pathname}.`);
};

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

const reserved = { GET: unknownControlRoute, PUT: unknownControlRoute, POST: unknownControlRoute, DELETE: unknownControlRoute };

/** Mounted before the streams: `__ds` is never a stream name. */
export const routes: Routes = {
  [`${CONTROL_PREFIX}/jwks.json`]: { GET: jwks },
  [`${CONTROL_PREFIX}/subscriptions/:id`]: { PUT: putSubscription, GET: getSubscription, DELETE: deleteSubscription },
  [`${CONTROL_PREFIX}/subscriptions/:id/streams`]: { POST: addStreams },
  [`${CONTROL_PREFIX}/subscriptions/:id/streams/*`]: { DELETE: removeStream },
  [`${CONTROL_PREFIX}/subscriptions/:id/callback`]: { POST: callback },
  [`${CONTROL_PREFIX}/subscriptions/:id/claim`]: { POST: claim },
  [`${CONTROL_PREFIX}/subscriptions/:id/ack`]: { POST: ack },
  [`${CONTROL_PREFIX}/subscriptions/:id/release`]: { POST: release },
  [CONTROL_PREFIX]: reserved,
  [`${CONTROL_PREFIX}/*`]: reserved,
};
