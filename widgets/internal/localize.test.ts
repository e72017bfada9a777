import { LitElement, html } from "lit";
import { afterEach, describe, expect, it } from "vitest";
import { Localizer, requestedLang, stringsAttribute, type TranslationModules } from "./localize.ts";
import { until } from "./test-support.ts";

interface Greeting {
  hello: string;
  count: (n: number) => string;
}

const ENGLISH: Greeting = { hello: "Hello", count: (n) => `${n} things` };
let failNextLoad = false;
const TRANSLATIONS: TranslationModules = {
  "./translations/de.ts": async () => ({
    default: (locale: string): Greeting => ({ hello: "Hallo", count: (n) => `${new Intl.NumberFormat(locale).format(n)} Dinge` }),
  }),
  // Fails as an offline page would, once.
  "./translations/fr.ts": async () => {
    if (failNextLoad) {
      failNextLoad = false;
      throw new TypeError("Failed to fetch dynamically imported module");
    }
    return { default: (): Greeting => ({ hello: "Bonjour", count: (n) => `${n} choses` }) };
  },
  "./translations/ar.ts": async () => ({ default: (): Greeting => ({ hello: "مرحبا", count: (n) => `${n} أشياء` }) }),
};

/** The smallest widget: one line of text in its language. */
class Greeter extends LitElement {
  strings: Partial<Greeting> = {};
  readonly l10n = new Localizer(this, ENGLISH, TRANSLATIONS);
  override render() {
    return html`<p>${this.l10n.text.hello}, ${this.l10n.text.count(1234)}</p>`;
  }
}
customElements.define("test-greeter", Greeter);

const said = (element: Greeter) => element.shadowRoot!.querySelector("p")!.textContent;

afterEach(() => {
  document.body.replaceChildren();
  document.documentElement.lang = "en";
});

describe("Localizer", () => {
  it("takes the language of the host page around a shadow root it sits in", async () => {
    const host = document.createElement("section");
    host.lang = "de";
    const root = host.attachShadow({ mode: "open" });
    const inner = document.createElement("div");
    root.append(inner);
    document.body.append(host);
    const element = new Greeter();
    inner.append(element);
    expect(requestedLang(element)).toBe("de");
    await until(element, () => said(element) === "Hallo, 1.234 Dinge");
  });

  it("formats for the region asked for within a language it has", async () => {
    const element = new Greeter();
    element.lang = "de-CH";
    document.body.append(element);
    const swiss = new Intl.NumberFormat("de-CH").format(1234);
    expect(swiss).not.toBe(new Intl.NumberFormat("de").format(1234));
    await until(element, () => said(element) === `Hallo, ${swiss} Dinge`);
    expect(element.l10n.locale).toBe("de-CH");
  });

  it("keeps the text it shows when a language cannot be fetched, and fetches it on the next change", async () => {
    failNextLoad = true;
    const element = new Greeter();
    element.lang = "fr";
    document.body.append(element);
    await element.updateComplete;
    await new Promise((done) => setTimeout(done));
    expect(said(element)).toBe("Hello, 1234 things");
    element.lang = "fr-CA";
    await until(element, () => said(element) === "Bonjour, 1234 choses");
  });

  it("sets the direction of the language it shows, and gives it back when the language changes", async () => {
    const element = new Greeter();
    element.lang = "ar";
    document.body.append(element);
    await until(element, () => said(element)!.startsWith("مرحبا"));
    expect(element.dir).toBe("rtl");
    element.lang = "he";
    // Hebrew has no strings here: English, left to right.
    await until(element, () => said(element)!.startsWith("Hello"));
    expect(element.dir).toBe("ltr");
  });
});

describe("the strings attribute", () => {
  const english = { title: "Comments", send: "Send" };

  it("takes the widget's own entries only, never names every object has (toString, constructor, __proto__)", () => {
    const { fromAttribute } = stringsAttribute(english);
    const taken = fromAttribute('{"title":"Kommentare","toString":"x","constructor":"y","__proto__":"z","hasOwnProperty":"w"}');
    expect(taken).toEqual({ title: "Kommentare" });
    expect(Object.keys(taken)).toEqual(["title"]);
  });
});
