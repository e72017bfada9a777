import { afterEach, describe, expect, inject, it } from "vitest";
import { userEvent } from "vitest/browser";
import "./video-gallery.ts";
import type { VideoGallery } from "./video-gallery.ts";
import { nextEvent, until } from "../internal/test-support.ts";

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

afterEach(() => {
  document.body.replaceChildren();
});

describe("<video-gallery>", { timeout: 30_000 }, () => {
  it("lists the public sample videos with thumbnails, names and durations, and not the private one", async () => {
    const gallery = mount({ endpoint });
    await until(gallery, () => names(gallery).length === 3);
    expect(names(gallery)).toEqual(SAMPLES);
    expect(parts(gallery, "duration").map((el) => el.textContent!.trim())).toEqual(["0:03", "0:03", "0:04"]);
    expect(parts(gallery, "video").map((el) => el.getAttribute("aria-label"))).toEqual(["Mandelbrot zoom, 0:03", "Colour bars, 0:03", "Test card with tone, 0:04"]);
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
