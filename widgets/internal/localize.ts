import type { ReactiveController, ReactiveControllerHost } from "lit";

/**
 * The UI text of every widget, in the language of the page or of the element.
 *
 * Each widget lists its text as one object: plain strings, and functions for text that
 * holds a count, a name or a reason. English is built into the widget file; every other language is
 * a module of its own (`widgets/<tag>/translations/<language>.ts`), fetched the first time an
 * element shows it, so a page pays only for the languages it uses. A language's module makes
 * its strings for one locale, so counts, numbers and plurals follow that locale's rules.
 */

/** One language's strings, made for a locale of that language (e.g. `de-AT`). */
export type Translation<S extends object> = (locale: string) => S;

/** The widget's other languages, as `import.meta.glob("./translations/*.ts")` gives them. */
// Each module's default export is a Translation of the widget's strings; the types of the
// glob's loaders cannot say so, and the widget's tests load every one of them.
export type TranslationModules = Record<string, () => Promise<unknown>>;

/** The element a Localizer serves: a Lit element whose `strings` property overrides the text. */
export type LocalizedHost<S extends object> = ReactiveControllerHost & HTMLElement & { strings: Partial<S> };

/** Languages written right to left, for browsers without `Intl.Locale#getTextInfo`. */
const RIGHT_TO_LEFT = new Set(["ar", "arc", "ckb", "dv", "fa", "he", "ks", "ku", "ps", "sd", "ug", "ur", "yi"]);

type TextInfo = { direction?: string };
type LocaleWithTextInfo = Intl.Locale & { getTextInfo?: () => TextInfo; textInfo?: TextInfo };

/** `rtl` for a language written right to left. */
export function directionOf(locale: string): "ltr" | "rtl" {
  const parsed = new Intl.Locale(locale) as LocaleWithTextInfo;
  const info = parsed.getTextInfo?.() ?? parsed.textInfo;
  if (info?.direction) return info.direction === "rtl" ? "rtl" : "ltr";
  return RIGHT_TO_LEFT.has(parsed.language) ? "rtl" : "ltr";
}

/**
 * The language asked for: the element's `lang`, else the closest ancestor's (across shadow
 * roots), which ends at the page's `<html lang>`. An empty `lang` counts as not set.
 */
export function requestedLang(element: Element): string {
  let node: Node | null = element;
  while (node) {
    if (node instanceof Element) {
      const lang = node.getAttribute("lang")?.trim();
      if (lang) return lang;
    }
    node = node instanceof ShadowRoot ? node.host : node.parentNode;
  }
  return "";
}

/**
 * A `strings` attribute converter: a JSON object of plain-text entries. Entries the widget does
 * not have (names every object inherits, such as `toString`, included), and entries that are not
 * strings, are left out (counted text is set as a property).
 */
export function stringsAttribute<S extends object>(english: S): { fromAttribute: (value: string | null) => Partial<S> } {
  return {
    fromAttribute(value) {
      try {
        const parsed: unknown = JSON.parse(value ?? "{}");
        if (typeof parsed !== "object" || parsed === null) return {};
        return Object.fromEntries(Object.entries(parsed).filter(([key, text]) => Object.hasOwn(english, key) && typeof text === "string")) as Partial<S>;
      } catch {
        return {};
      }
    },
  };
}

/** Each language module is fetched once per page, whichever element asks first. */
const fetched = new WeakMap<() => Promise<unknown>, Promise<unknown>>();

/**
 * Gives a widget its text, its number and date formats and its direction, and re-renders it
 * when its language changes: its own `lang`, an ancestor's, or the page's. It sets `dir` on the
 * element to the language's direction unless the page set `dir` there itself.
 *
 * A language without built-in strings shows English, formatted as English: the text, its
 * numbers and its direction stay one language. A page that translates into such a language
 * through `strings` sets `dir` itself where it needs to.
 */
export class Localizer<S extends object> implements ReactiveController {
  /** The locale in use: the one asked for, or `en` when its language has no strings here. */
  locale = "en";
  private strings: S;
  private readonly made = new Map<string, S>();
  private readonly formats = new Map<string, Intl.NumberFormat | Intl.DateTimeFormat>();
  private observer: MutationObserver | undefined;
  /** Set once `dir` on the element is ours to change. */
  private ownsDir = false;

  constructor(
    private readonly host: LocalizedHost<S>,
    private readonly english: S,
    private readonly translations: TranslationModules,
  ) {
    this.strings = english;
    host.addController(this);
  }

  /** The text to show: the element's `strings`, then its language's, then English. */
  get text(): S {
    return { ...this.strings, ...this.host.strings };
  }

  /** A number as the language writes it (grouping, digits). */
  number(value: number, options: Intl.NumberFormatOptions = {}): string {
    const key = `number ${JSON.stringify(options)}`;
    let format = this.formats.get(key) as Intl.NumberFormat | undefined;
    if (!format) this.formats.set(key, (format = new Intl.NumberFormat(this.locale, options)));
    return format.format(value);
  }

  /** A date and time as the language writes it. */
  dateTime(value: Date | number, options: Intl.DateTimeFormatOptions): string {
    const key = `date ${JSON.stringify(options)}`;
    let format = this.formats.get(key) as Intl.DateTimeFormat | undefined;
    if (!format) this.formats.set(key, (format = new Intl.DateTimeFormat(this.locale, options)));
    return format.format(value);
  }

  hostConnected(): void {
    // One observer sees the element's own `lang` and every ancestor's in the page.
    this.observer = new MutationObserver(() => this.follow());
    this.observer.observe(this.host, { attributes: true, attributeFilter: ["lang"] });
    this.observer.observe(document.documentElement, { attributes: true, attributeFilter: ["lang"], subtree: true });
    this.follow();
  }

  hostDisconnected(): void {
    this.observer?.disconnect();
    this.observer = undefined;
  }

  /** Switches to the language asked for now; another language's module is fetched first. */
  private follow(): void {
    const { language, locale } = this.pick(requestedLang(this.host));
    if (language === "en") return this.use(locale, () => this.english);
    const load = Object.entries(this.translations).find(([path]) => path.endsWith(`/${language}.ts`))![1];
    let loading = fetched.get(load);
    if (!loading) {
      loading = load();
      fetched.set(load, loading);
    }
    void loading.then(
      (module) => {
        // Only if nothing asked for another language meanwhile.
        if (this.pick(requestedLang(this.host)).locale === locale) this.use(locale, () => (module as { default: Translation<S> }).default(locale));
      },
      () => {
        // Offline or a missing file: keep the text shown, and let the next change try again.
        fetched.delete(load);
      },
    );
  }

  private pick(requested: string): { language: string; locale: string } {
    try {
      const parsed = new Intl.Locale(requested);
      const known = parsed.language === "en" || Object.keys(this.translations).some((path) => path.endsWith(`/${parsed.language}.ts`));
      if (known) return { language: parsed.language, locale: parsed.toString() };
    } catch {
      // Not a language tag (or none at all): English.
    }
    return { language: "en", locale: "en" };
  }

  private use(locale: string, make: () => S): void {
    this.setDir(directionOf(locale));
    if (locale === this.locale && this.made.has(locale)) return;
    let strings = this.made.get(locale);
    if (!strings) {
      strings = make();
      this.made.set(locale, strings);
    }
    this.locale = locale;
    this.strings = strings;
    this.formats.clear();
    this.host.requestUpdate();
  }

  private setDir(dir: "ltr" | "rtl"): void {
    const current = this.host.getAttribute("dir");
    if (current !== null && !this.ownsDir) return;
    if (current === dir) return;
    this.ownsDir = true;
    this.host.setAttribute("dir", dir);
  }
}
