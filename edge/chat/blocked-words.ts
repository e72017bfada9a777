/**
 * Blocked words: what a list entry and a message are compared as. Both are brought to one form
 * first: Unicode NFKC (so full-width, ligature and other compatibility forms read as the plain
 * letters: "ｂａｄ" is "bad") and then lower case (Unicode's default case mapping, so "BAD" and
 * "Bad" are "bad"). Text is then cut into words: runs of letters, combining marks and digits;
 * everything else (spaces, punctuation, emoji) separates words. An entry matches when its words
 * appear in the message as whole words, in a row: "bad" matches "so BAD!" but not "badge"; the
 * entry "bad word" matches "a bad, word" but not "bad words". Spelling tricks ("b a d", "b4d")
 * are not caught: the list says what the room refuses, not what it guesses.
 */
import { z } from "zod";
import type { BlockedWords } from "../../contract/chat.ts";
import { MAX_BLOCKED_WORD_CHARS, MAX_BLOCKED_WORDS, chars } from "../../contract/chat-limits.ts";
import { LINE_CONTROL, wellFormed } from "../http/text.ts";
import type { SameType } from "../http/validate.ts";

const WORD = /[\p{L}\p{M}\p{N}]+/gu;

/**
 * Characters that show nothing (zero-width space and joiners, soft hyphen, word joiner, BOM,
 * variation selectors): dropped before words are cut, so that "b<ZWJ>ad" is "bad" and not the
 * two words "b" and "ad". Letters of other scripts that look alike (a Cyrillic "а" in "bаd") are
 * other letters and are not mapped: a confusables table would refuse honest words of those
 * scripts, and the list says what the room refuses, not what it guesses.
 */
const INVISIBLE = /\p{Default_Ignorable_Code_Point}/gu;

/** The words of `text` in the compared form. */
export const wordsOf = (text: string): string[] => text.normalize("NFKC").replace(INVISIBLE, "").toLowerCase().match(WORD) ?? [];

/** One entry as it is stored and answered: its words, in the compared form, one space apart. */
const entryOf = (raw: string) => wordsOf(raw).join(" ");

const Entry = z
  .string()
  .refine(wellFormed, "words must be valid UTF-8")
  .refine((word) => !LINE_CONTROL.test(word), "words may not hold control characters")
  .refine((word) => chars(word) <= MAX_BLOCKED_WORD_CHARS, `words are at most ${MAX_BLOCKED_WORD_CHARS} characters`)
  .transform(entryOf)
  .refine((entry) => entry.length > 0, "each entry needs a letter or a digit");

/** `{"words":[...]}` as an admin sends it: at most 1,000 entries, each 1–64 characters. Stored in compared form, without repeats. */
export const BlockedWordsBody = z
  .object({ words: z.array(Entry).max(MAX_BLOCKED_WORDS, `at most ${MAX_BLOCKED_WORDS} words`) })
  .strict()
  .transform(({ words }) => ({ words: [...new Set(words)] }));
true satisfies SameType<z.output<typeof BlockedWordsBody>, BlockedWords>;

/** A list ready to check messages against: single words in a set, phrases by search. */
export class WordList {
  private readonly single = new Set<string>();
  private readonly phrases: string[] = [];

  constructor(entries: readonly string[]) {
    for (const entry of entries) {
      if (entry.includes(" ")) this.phrases.push(` ${entry} `);
      else this.single.add(entry);
    }
  }

  get empty(): boolean {
    return this.single.size === 0 && this.phrases.length === 0;
  }

  /** The first entry `text` holds, or undefined. */
  find(text: string): string | undefined {
    const words = wordsOf(text);
    const word = words.find((w) => this.single.has(w));
    if (word !== undefined) return word;
    if (this.phrases.length === 0) return undefined;
    const spaced = ` ${words.join(" ")} `;
    return this.phrases.find((phrase) => spaced.includes(phrase))?.trim();
  }
}
