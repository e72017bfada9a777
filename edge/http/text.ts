/**
 * Rules for visitor-given text that is stored and shown to others (chat names and messages,
 * video names): it must encode to valid UTF-8 and hold no control characters.
 */

/** Text that encodes to valid UTF-8: a lone surrogate cannot. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
export const wellFormed = (text: string) => !LONE_SURROGATE.test(text);

/** Control characters, newline and tab included: for single-line text such as names. */
export const LINE_CONTROL = /[\u0000-\u001F\u007F-\u009F]/;
/** Control characters other than newline and tab: for multi-line text. */
export const TEXT_CONTROL = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F]/;
