/**
 * The chat protocol as the room checks it: one zod schema per client frame, each tied to its
 * type in `contract/chat.ts`, plus the HTTP queries and bodies. Documented in docs/protocol.md
 * ("Chat").
 */
import { z } from "zod";
import type { ChatClientFrame, SlowMode } from "../../contract/chat.ts";
import { CLIENT_ID_PATTERN, MAX_NAME_CHARS, MAX_PAGE, MAX_SLOW_MODE_SECONDS, MAX_TEXT_CHARS, chars } from "../../contract/chat-limits.ts";
import { LINE_CONTROL, TEXT_CONTROL, wellFormed } from "../http/text.ts";
import type { SameType } from "../http/validate.ts";

export const DEFAULT_PAGE = 50;

export const DisplayName = z
  .string()
  .transform((name) => name.normalize("NFC").trim().replace(/\s+/g, " "))
  .refine((name) => name.length > 0, "a name is required")
  .refine((name) => chars(name) <= MAX_NAME_CHARS, `names are at most ${MAX_NAME_CHARS} characters`)
  .refine(wellFormed, "names must be valid UTF-8 text")
  .refine((name) => !LINE_CONTROL.test(name), "names may not hold control characters");

export const MessageText = z
  .string()
  .refine(wellFormed, "text must be valid UTF-8")
  .refine((text) => text.trim().length > 0, "text is empty")
  .refine((text) => chars(text) <= MAX_TEXT_CHARS, `messages are at most ${MAX_TEXT_CHARS} characters`)
  .refine((text) => !TEXT_CONTROL.test(text), "text may not hold control characters");

export const ClientId = z.string().regex(CLIENT_ID_PATTERN, "ids are 1–64 letters, digits, - and _");

/** Message ids are positive integers, increasing in the order the room accepted them. */
export const MessageId = z.coerce.number().int().positive();
export const PageLimit = z.coerce.number().int().min(1).max(MAX_PAGE);

export const SendMessage = z.object({ type: z.literal("send"), id: ClientId, text: MessageText }).strict();
export const TypingMessage = z.object({ type: z.literal("typing") }).strict();
export const HistoryRequest = z
  .object({
    type: z.literal("history"),
    before: z.number().int().positive().optional(),
    limit: z.number().int().min(1).max(MAX_PAGE).optional(),
    /** The client's id of this request: its answer or refusal carries it as `ref`. */
    id: ClientId.optional(),
  })
  .strict();

/** A verified identity, sent as the first frame so that no URL (and no access log) holds it. */
export const IdentifyMessage = z.object({ type: z.literal("identify"), token: z.string().min(1).max(4096) }).strict();

/** Every frame a client may send. */
export const ClientMessage = z.discriminatedUnion("type", [SendMessage, TypingMessage, HistoryRequest, IdentifyMessage]);
// A frame or field in the contract that no schema checks, or the other way round, fails here.
true satisfies SameType<z.output<typeof ClientMessage>, ChatClientFrame>;

/** Query of `GET /api/rooms/{room}/messages`. */
export const PageQuery = z.object({ before: MessageId.optional(), limit: PageLimit.optional() }).strict();

/** The socket's query string: who is joining and where a reconnect resumes. */
export const JoinQuery = z
  .object({
    name: DisplayName.optional(),
    /** Random per widget instance: a reconnect from the same session keeps its name. */
    session: ClientId.optional(),
    /** The last message id the client saw: the room sends exactly the ones after it. */
    after: z.coerce.number().int().min(0).optional(),
    /** `1`: the client identifies with a host-signed token in its first frame, instead of a name. */
    identify: z.literal("1").optional(),
  })
  .strict();

/** Admin: ban a name or an IP from a room for a while. */
export const BanRequest = z
  .object({
    name: DisplayName.optional(),
    ip: z.string().min(1).max(64).optional(),
    seconds: z.number().int().min(1).max(365 * 24 * 3600),
    reason: z.string().max(200).optional(),
  })
  .strict()
  .refine((ban) => (ban.name === undefined) !== (ban.ip === undefined), "give exactly one of name or ip");
export type BanRequest = z.infer<typeof BanRequest>;

/** Admin: slow mode, `{"seconds":n}`, 0 (off) to six hours. */
export const SlowModeBody = z.object({ seconds: z.number().int().min(0).max(MAX_SLOW_MODE_SECONDS) }).strict();
true satisfies SameType<z.output<typeof SlowModeBody>, SlowMode>;

/** Claims of a verified identity token signed by the host site. */
export const IdentityClaims = z.object({ sub: z.string().min(1).max(128), name: DisplayName, exp: z.number() });

export interface Ban {
  kind: "name" | "ip";
  value: string;
  until: number;
  reason: string;
}
