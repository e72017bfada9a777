import { afterEach, describe, expect, inject, it } from "vitest";
import { userEvent } from "vitest/browser";
import "./video-gallery.ts";
import type { VideoGallery } from "./video-gallery.ts";
import { accessibilityViolations, colorScheme, focused, nextEvent, press, until } from "../internal/test-support.ts";

const endpoint = inject("endpoint");
/** The public samples of the local library, newest first (demo/videos/library.json). */
const SAMPLES = ["Mandelbrot zoom", "Colour bars", "Test card with tone"];

function mount(attributes: Record<string, string>): VideoGallery {
  const element = document.createElement("video-gallery");
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
  document.body.append(element);
  return element;
}

const parts = (element: Element, name: string) => [...element.shadowRoot!.querySelectorAll<HTMLElement>(`[part~="${name}"]`)];
const part = (element: Element, name: string) => parts(element, name)[0]!;
const names = (element: Element) => parts(element, "name").map((el) => el.textContent!.trim());

/** What a screen reader reads for a card: its text, less what is hidden from it. */
function spokenName(card: HTMLElement): string {
  const copy = card.cloneNode(true) as HTMLElement;
  for (const hidden of copy.querySelectorAll("[aria-hidden=true]")) hidden.remove();
  return copy.textContent!.replace(/\s+/g, " ").trim();
}

/** Resolves when the media element has played past `seconds`. */
function playedPast(media: HTMLVideoElement, seconds: number): Promise<void> {
  return new Promise((done) => {
    const check = () => {
      if (media.currentTime > seconds) {
        media.removeEventListener("timeupdate", check);
        done();
      }
    };
    media.addEventListener("timeupdate", check);
    check();
  });
}

afterEach(async () => {
  document.body.replaceChildren();
  await colorScheme("light");
});

describe("<video-gallery>", { timeout: 30_000 }, () => {
  it("lists the public sample videos with thumbnails, names and durations, and not the private one", async () => {
    const gallery = mount({ endpoint });
    await until(gallery, () => names(gallery).length === 3);
    expect(names(gallery)).toEqual(SAMPLES);
    expect(parts(gallery, "duration").map((el) => el.textContent!.trim())).toEqual(["0:03", "0:03", "0:04"]);
    // Named by what they show (no aria-label to disagree with it), the length said in words.
    expect(parts(gallery, "video").map((el) => el.getAttribute("aria-label"))).toEqual([null, null, null]);
    expect(parts(gallery, "video").map((el) => spokenName(el))).toEqual([
      "Mandelbrot zoom, 3 seconds",
      "Colour bars, 3 seconds",
      "Test card with tone, 4 seconds",
    ]);
    const thumbnails = parts(gallery, "thumbnail") as HTMLImageElement[];
    expect(thumbnails).toHaveLength(3);
    await Promise.all(thumbnails.map((img) => (img.complete ? Promise.resolve() : nextEvent(img, "load"))));
    expect(thumbnails.every((img) => img.naturalWidth === 320)).toBe(true);
    expect(gallery.shadowRoot!.textContent).not.toContain("Rehearsal");
  });

  it("filters by the search box", async () => {
    const gallery = mount({ endpoint });
    await until(gallery, () => names(gallery).length === 3);
    await userEvent.type(part(gallery, "search"), "bars");
    await until(gallery, () => names(gallery).length === 1);
    expect(names(gallery)).toEqual(["Colour bars"]);
    expect(gallery.getAttribute("search")).toBe("bars");
  });

  it("says so when nothing matches", async () => {
    const gallery = mount({ endpoint, search: "no such video" });
    await until(gallery, () => Boolean(part(gallery, "status")?.textContent!.includes("No videos match")));
    expect(names(gallery)).toEqual([]);
  });

  it("pages with page-size and Load more", async () => {
    const gallery = mount({ endpoint, "page-size": "2" });
    await until(gallery, () => names(gallery).length === 2);
    expect(names(gallery)).toEqual(SAMPLES.slice(0, 2));
    await userEvent.click(part(gallery, "more"));
    await until(gallery, () => names(gallery).length === 3);
    expect(names(gallery)).toEqual(SAMPLES);
    expect(parts(gallery, "more")).toHaveLength(0);
  });

  for (const engine of ["native", "mse"] as const) {
    it(`plays a video in the player with prefer-playback="${engine}"`, async () => {
      const gallery = mount({ endpoint, "prefer-playback": engine });
      await until(gallery, () => names(gallery).length === 3);
      const playing = nextEvent(gallery, "edge-video-playing");
      await userEvent.click(parts(gallery, "video")[2]!);
      expect((part(gallery, "player") as HTMLDialogElement).open).toBe(true);
      const event = await playing;
      expect(event.detail).toEqual({ uid: "5d5bc37ffcf54c9b82e996823bffbb81", engine });
      const media = part(gallery, "media") as HTMLVideoElement;
      await playedPast(media, 0.5);
      expect(gallery.getAttribute("playing")).toBe(engine);
    });
  }

  it("recovers from one fatal media error of hls.js and shows the second", async () => {
    const gallery = mount({ endpoint, "prefer-playback": "mse" });
    await until(gallery, () => names(gallery).length === 3);
    const playing = nextEvent(gallery, "edge-video-playing");
    await userEvent.click(parts(gallery, "video")[2]!);
    await playing;
    // The player's own hls.js instance, made to report what a decoder failure reports.
    const hls = (gallery as unknown as { session: { hls: { trigger(event: string, data: object): void } } }).session.hls;
    const fatal = { type: "mediaError", details: "bufferAppendError", fatal: true };
    hls.trigger("hlsError", fatal);
    await gallery.updateComplete;
    const problem = () => gallery.shadowRoot!.querySelector("[part~=player] .problem")!.textContent!;
    expect(problem()).toBe("");
    await playedPast(part(gallery, "media") as HTMLVideoElement, 1);
    const failed = nextEvent(gallery, "edge-video-error");
    hls.trigger("hlsError", fatal);
    expect((await failed).detail.code).toBe("media");
    await gallery.updateComplete;
    expect(problem()).toMatch(/Playback failed/);
  });

  it("opens from the keyboard, moves focus into the player, and Escape closes it and returns focus", async () => {
    const gallery = mount({ endpoint, "prefer-playback": "native" });
    await until(gallery, () => names(gallery).length === 3);
    const card = parts(gallery, "video")[1]!;
    card.focus();
    const opened = nextEvent(gallery, "edge-video-open");
    await userEvent.keyboard("{Enter}");
    expect((await opened).detail.name).toBe("Colour bars");
    const dialog = part(gallery, "player") as HTMLDialogElement;
    expect(dialog.open).toBe(true);
    expect(gallery.shadowRoot!.activeElement).toBe(part(gallery, "media"));
    const closed = nextEvent(gallery, "edge-video-close");
    await userEvent.keyboard("{Escape}");
    await closed;
    expect(dialog.open).toBe(false);
    expect(gallery.shadowRoot!.activeElement).toBe(card);
    expect((part(gallery, "media") as HTMLVideoElement).getAttribute("src")).toBeNull();
  });

  it("plays and pauses with K and seeks with the arrow keys", async () => {
    const gallery = mount({ endpoint, "prefer-playback": "native" });
    await until(gallery, () => names(gallery).length === 3);
    const playing = nextEvent(gallery, "edge-video-playing");
    await userEvent.click(parts(gallery, "video")[2]!);
    await playing;
    const media = part(gallery, "media") as HTMLVideoElement;
    // From a known state, paused at the start; each key acts synchronously on the element.
    media.pause();
    media.currentTime = 0;
    await userEvent.keyboard("k");
    expect(media.paused).toBe(false);
    await userEvent.keyboard("k");
    expect(media.paused).toBe(true);
    const at = media.currentTime;
    await userEvent.keyboard("{ArrowRight}");
    expect(media.currentTime).toBeGreaterThan(at + 1);
  });

  it("renders names as text, not HTML", async () => {
    const gallery = mount({ endpoint });
    await until(gallery, () => names(gallery).length === 3);
    expect(gallery.shadowRoot!.querySelectorAll("[part~=name] *")).toHaveLength(0);
  });

  it("shows an upload button only with an upload token", async () => {
    const without = mount({ endpoint });
    const withToken = mount({ endpoint, "upload-token": "token-from-the-site" });
    await Promise.all([without.updateComplete, withToken.updateComplete]);
    expect(parts(without, "upload")).toHaveLength(0);
    expect(part(withToken, "upload").tagName).toBe("BUTTON");
  });

  it("shows why an upload was refused", async () => {
    const gallery = mount({ endpoint, "upload-token": "not-a-valid-token" });
    await until(gallery, () => names(gallery).length === 3);
    const failed = nextEvent(gallery, "edge-video-error");
    const input = gallery.shadowRoot!.querySelector<HTMLInputElement>('input[type="file"]')!;
    await userEvent.upload(input, new File([new Uint8Array(64)], "holiday.mp4", { type: "video/mp4" }));
    expect((await failed).detail.code).toBe("upload_failed");
    await gallery.updateComplete;
    expect(part(gallery, "upload-status").textContent).toMatch(/Upload failed: Uploading needs the admin token/);
    expect(part(gallery, "upload").hasAttribute("disabled")).toBe(false);
  });

  it("passes on the server's reason when it refuses fresh URLs for a video", async () => {
    // The strict backend allows one video lookup per address, then refuses with a 429.
    const gallery = mount({ endpoint: inject("strictEndpoint") });
    await until(gallery, () => names(gallery).length === 3);
    const uid = "5d5bc37ffcf54c9b82e996823bffbb81";
    await gallery.freshVideo(uid).catch(() => undefined);
    await expect(gallery.freshVideo(uid)).rejects.toThrow(/try again in/i);
  });

  it("shows a visible message when the backend cannot be reached", async () => {
    const gallery = mount({ endpoint: "http://127.0.0.1:9" });
    const failed = nextEvent(gallery, "edge-video-error");
    await failed;
    await gallery.updateComplete;
    expect(part(gallery, "status").textContent).toMatch(/Videos unavailable/);
  });

  it("stops playback and loading when removed from the page", async () => {
    const gallery = mount({ endpoint, "prefer-playback": "mse" });
    await until(gallery, () => names(gallery).length === 3);
    const playing = nextEvent(gallery, "edge-video-playing");
    await userEvent.click(parts(gallery, "video")[0]!);
    await playing;
    const media = part(gallery, "media") as HTMLVideoElement;
    gallery.remove();
    expect(media.paused).toBe(true);
    expect(media.getAttribute("src")).toBeNull();
    expect(media.readyState).toBe(HTMLMediaElement.HAVE_NOTHING);
    expect(gallery.hasAttribute("playing")).toBe(false);
  });
});

describe("<video-gallery> in other languages", { timeout: 30_000 }, () => {
  const searchLabel = (gallery: Element) => gallery.shadowRoot!.querySelector("label")!.textContent!.trim();

  it("re-renders its text when its lang changes", async () => {
    const gallery = mount({ endpoint, lang: "de", "page-size": "2" });
    await until(gallery, () => names(gallery).length === 2 && searchLabel(gallery) === "Videos durchsuchen");
    expect(part(gallery, "more").textContent).toBe("Mehr laden");
    expect(part(gallery, "grid").getAttribute("aria-label")).toBe("Videos");
    expect(spokenName(parts(gallery, "video")[0]!)).toBe("Mandelbrot zoom, 3 Sekunden");
    gallery.lang = "ja";
    await until(gallery, () => searchLabel(gallery) === "動画を検索");
    expect(part(gallery, "more").textContent).toBe("さらに読み込む");
    gallery.lang = "es";
    await until(gallery, () => part(gallery, "more").textContent === "Cargar más");
    gallery.lang = "fr";
    await until(gallery, () => part(gallery, "more").textContent === "Afficher plus");
  });

  it("mirrors the grid and the duration badges in Arabic, and writes lengths in the language's digits", async () => {
    const gallery = mount({ endpoint, lang: "ar-EG" });
    gallery.style.width = "40rem";
    await until(gallery, () => names(gallery).length === 3 && gallery.getAttribute("dir") === "rtl" && part(gallery, "duration").textContent === "٠:٠٣");
    const [first, second] = parts(gallery, "video").map((card) => card.getBoundingClientRect());
    expect(first!.left).toBeGreaterThan(second!.left);
    const frame = gallery.shadowRoot!.querySelector(".frame")!.getBoundingClientRect();
    const badge = part(gallery, "duration").getBoundingClientRect();
    expect(badge.left - frame.left).toBeLessThan(12);
    expect(spokenName(parts(gallery, "video")[0]!)).toBe(`Mandelbrot zoom، ${new Intl.NumberFormat("ar-EG", { style: "unit", unit: "second", unitDisplay: "long" }).format(3)}`);
  });

  it("lets strings overrides win, and shows English for a language it has no text for", async () => {
    const gallery = mount({ endpoint, lang: "es", strings: '{"searchLabel":"Encuentra un vídeo"}' });
    await until(gallery, () => searchLabel(gallery) === "Encuentra un vídeo");
    const unknown = mount({ endpoint, lang: "x-klingon" });
    await until(unknown, () => names(unknown).length === 3);
    expect(searchLabel(unknown)).toBe("Search videos");
  });
});

describe("<video-gallery> from the keyboard", { timeout: 30_000 }, () => {
  it("goes from the search box through the cards to Load more with Tab", async () => {
    const gallery = mount({ endpoint, "page-size": "2" });
    await until(gallery, () => names(gallery).length === 2);
    part(gallery, "search").focus();
    await press("Tab");
    expect(focused()).toBe(parts(gallery, "video")[0]);
    await press("Tab");
    expect(focused()).toBe(parts(gallery, "video")[1]);
    await press("Tab");
    expect(focused()).toBe(part(gallery, "more"));
    await press("Enter");
    await until(gallery, () => names(gallery).length === 3);
  });

  it("opens a card with Space, and the Close button returns focus to it", async () => {
    const gallery = mount({ endpoint, "prefer-playback": "native" });
    await until(gallery, () => names(gallery).length === 3);
    const card = parts(gallery, "video")[2]!;
    card.focus();
    const opened = nextEvent(gallery, "edge-video-open");
    await press("Space");
    expect((await opened).detail.name).toBe("Test card with tone");
    part(gallery, "close").focus();
    const closed = nextEvent(gallery, "edge-video-close");
    await press("Enter");
    await closed;
    expect(focused()).toBe(card);
  });
});

describe.each(["light", "dark"] as const)("<video-gallery> accessibility, %s scheme", (scheme) => {
  it("has no axe violations loaded, with an upload button, empty and failing", { timeout: 30_000 }, async () => {
    await colorScheme(scheme);
    const loaded = mount({ endpoint, "page-size": "2", "upload-token": "token-from-the-site" });
    const empty = mount({ endpoint, search: "no such video", lang: "ar" });
    const failing = mount({ endpoint: "http://127.0.0.1:9" });
    await until(loaded, () => names(loaded).length === 2);
    await until(empty, () => part(empty, "status").textContent!.includes("«"));
    await until(failing, () => part(failing, "status").textContent!.includes("Videos unavailable"));
    await Promise.all(parts(loaded, "thumbnail").map((img) => ((img as HTMLImageElement).complete ? undefined : nextEvent(img, "load"))));
    expect(await accessibilityViolations(document.body)).toEqual([]);
  });

  it("has no axe violations with the player open, and after a failed upload", { timeout: 30_000 }, async () => {
    await colorScheme(scheme);
    const gallery = mount({ endpoint, "prefer-playback": "native", "upload-token": "not-a-valid-token" });
    await until(gallery, () => names(gallery).length === 3);
    const failed = nextEvent(gallery, "edge-video-error");
    await userEvent.upload(gallery.shadowRoot!.querySelector<HTMLInputElement>('input[type="file"]')!, new File([new Uint8Array(8)], "a.mp4", { type: "video/mp4" }));
    await failed;
    const playing = nextEvent(gallery, "edge-video-playing");
    await userEvent.click(parts(gallery, "video")[0]!);
    await playing;
    expect(await accessibilityViolations(gallery)).toEqual([]);
  });
});

