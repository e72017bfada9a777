/**
 * Text with counts and lists in it, made for one locale. The built-in translations use these;
 * they live apart from the Localizer so that only a page showing a translation loads them.
 */

/** A function of a count that picks the language's plural form and writes the count for `#`. */
export function plural(
  locale: string,
  forms: Partial<Record<Intl.LDMLPluralRule, string>> & { other: string },
): (count: number) => string {
  const rules = new Intl.PluralRules(locale);
  const number = new Intl.NumberFormat(locale);
  return (count) => (forms[rules.select(count)] ?? forms.other).replaceAll("#", number.format(count));
}

/** Seconds as the language says them ("5 seconds", "5 Sekunden", "٥ ثوانٍ"), plural forms included. */
export function seconds(locale: string): (count: number) => string {
  const unit = new Intl.NumberFormat(locale, { style: "unit", unit: "second", unitDisplay: "long" });
  return (count) => unit.format(count);
}

/** A list joined as the language joins it ("A, B and C", "A、B、C"). */
export function list(locale: string): (items: string[]) => string {
  const format = new Intl.ListFormat(locale, { style: "long", type: "conjunction" });
  return (items) => format.format(items);
}

/**
 * Text from elsewhere (a name, a server's reason) set apart from the sentence around it, so
 * that a left-to-right name in a right-to-left sentence keeps its place and its punctuation.
 */
export function isolate(text: string): string {
  return `\u2068${text}\u2069`;
}
