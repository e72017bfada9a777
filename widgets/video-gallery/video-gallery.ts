import { html, nothing, type CSSResultGroup } from "lit";
import { property, query, state } from "lit/decorators.js";
import type Hls from "hls.js";
import type { ErrorData } from "hls.js";
import type { Video } from "../../contract/video.ts";
import { EdgeElement, define } from "../internal/edge-element.ts";
import { apiUrl } from "../internal/endpoint.ts";
import { emit } from "../internal/events.ts";
import { Localizer, stringsAttribute } from "../internal/localize.ts";
import { theme } from "../internal/theme.ts";
import { styles } from "./video-gallery.styles.ts";

declare global {
  interface HTMLElementTagNameMap {
    "video-gallery": VideoGallery;
  }
  interface GlobalEventHandlersEventMap {
    /** A video was opened in the player. */
    "edge-video-open": CustomEvent<{ uid: string; name: string }>;
    /** The open video started playing; `engine` says how (hls.js over MSE, or the browser's own HLS/MP4). */
    "edge-video-playing": CustomEvent<{ uid: string; engine: PlaybackEngine }>;
    /** The player was closed. */
    "edge-video-close": CustomEvent<{ uid: string }>;
    /** Listing, playback or an upload failed; `message` is what the widget shows. */
    "edge-video-error": CustomEvent<{ uid?: string; code: string; message: string }>;
    /** An upload finished and the video is in the library. */
    "edge-video-uploaded": CustomEvent<{ uid: string; name: string }>;
  }
}

export type PlaybackEngine = "mse" | "native";

/** Every piece of text the widget shows; set `strings` to change any of them. */
export interface GalleryStrings {
  searchLabel: string;
  gridLabel: string;
  /** Read after a video's name on its card, e.g. ", 1 minute, 5 seconds". */
  lengthIs: (duration: string) => string;
  loading: string;
  empty: string;
  noMatch: (search: string) => string;
  more: string;
  listUnavailable: (status: number) => string;
  videosUnavailable: (reason: string) => string;
  upload: string;
  uploadProgress: string;
  untitled: string;
  uploading: (name: string) => string;
  uploaded: (name: string) => string;
  uploadFailed: (reason: string) => string;
  uploadsUnavailable: (status: number) => string;
  serverAnswered: (status: number) => string;
  connectionFailed: string;
  cancelled: string;
  close: string;
  video: string;
  videoNamed: (name: string) => string;
  gone: string;
  videoUnavailable: (status: number) => string;
  cannotPlay: string;
  playbackFailed: (details: string) => string;
  couldNotPlay: string;
  noLongerPlayable: string;
}

export const GALLERY_STRINGS: GalleryStrings = {
  searchLabel: "Search videos",
  gridLabel: "Videos",
  lengthIs: (duration) => `, ${duration}`,
  loading: "Loading videos…",
  empty: "No videos yet.",
  noMatch: (search) => `No videos match “${search}”.`,
  more: "Load more",
  listUnavailable: (status) => `The video list is unavailable (${status}).`,
  videosUnavailable: (reason) => `Videos unavailable: ${reason}`,
  upload: "Upload video",
  uploadProgress: "Upload progress",
  untitled: "Untitled",
  uploading: (name) => `Uploading ${name}…`,
  uploaded: (name) => `${name} is uploaded.`,
  uploadFailed: (reason) => `Upload failed: ${reason}`,
  uploadsUnavailable: (status) => `Uploads are unavailable (${status}).`,
  serverAnswered: (status) => `the server answered ${status}`,
  connectionFailed: "the connection failed",
  cancelled: "cancelled",
  close: "Close",
  video: "Video",
  videoNamed: (name) => `Video: ${name}`,
  gone: "This video is no longer available.",
  videoUnavailable: (status) => `The video is unavailable (${status}).`,
  cannotPlay: "This browser cannot play this video.",
  playbackFailed: (details) => `Playback failed (${details}).`,
  couldNotPlay: "This video could not be played.",
  noLongerPlayable: "This video can no longer be played here.",
};


const HLS_TYPE = "application/vnd.apple.mpegurl";

/**
 * A gallery of the backend's videos (Cloudflare Stream or the local library): a responsive grid
 * with search and "load more", a player dialog, and uploads for holders of an upload token.
 * hls.js is fetched only when a video plays with it; see `prefer-playback`.
 *
 * @tag video-gallery
 * @attr lang - The language of its text (default: the closest `lang` around it, else English).
 * @attr strings - JSON object overriding UI text, e.g. `{"more":"Mehr laden"}` (also a property).
 * @csspart search - The search box.
 * @csspart grid - The list of videos.
 * @csspart video - One video's button in the grid.
 * @csspart thumbnail - A video's thumbnail image.
 * @csspart name - A video's name.
 * @csspart duration - A video's duration.
 * @csspart more - The "Load more" button.
 * @csspart upload - The upload button (with `upload-token`).
 * @csspart progress - The upload's progress bar.
 * @csspart status - Loading, empty and error messages (a polite live region).
 * @csspart player - The player dialog.
 * @csspart media - The `<video>` element inside the player.
 * @csspart close - The player's close button.
 * @cssprop --video-gallery-min-column - Narrowest grid column (default 11rem).
 * @cssprop --video-gallery-gap - Gap between grid cells.
 * @cssprop --video-gallery-accent - Colour of the primary buttons and the progress bar.
 * @cssprop --video-gallery-placeholder - Background behind thumbnails.
 * @cssprop --video-gallery-player-width - Widest the player dialog gets (default 960px).
 * @cssprop --video-gallery-backdrop - The dialog's backdrop.
 * @fires edge-video-open - A video was opened.
 * @fires edge-video-playing - Playback started, with the engine used.
 * @fires edge-video-close - The player was closed.
 * @fires edge-video-error - Something failed; the widget shows the same message.
 * @fires edge-video-uploaded - An upload was stored.
 */
export class VideoGallery extends EdgeElement {
  static override styles: CSSResultGroup = [theme, styles];

  /** The search text; the search box edits it. */
  @property({ reflect: true }) search = "";
  /** Videos per page, 1–50. */
  @property({ attribute: "page-size", type: Number }) pageSize = 12;
  /**
   * `mse` plays HLS with hls.js, `native` with the browser's own HLS. Left out: the browser's
   * own HLS where it claims support (Safari, and Chromium since it shipped native HLS), hls.js
   * elsewhere, and hls.js as a fallback if native playback fails.
   */
  @property({ attribute: "prefer-playback", reflect: true }) preferPlayback: PlaybackEngine | null = null;
  /** A token from the host site (or the admin token) that allows uploads; shows the upload button. */
  @property({ attribute: "upload-token" }) uploadToken: string | null = null;
  /** Overrides of the UI text. As an attribute, a JSON object of the plain-text entries. */
  @property({ converter: stringsAttribute(GALLERY_STRINGS) }) strings: Partial<GalleryStrings> = {};

  @state() private videos: Video[] = [];
  @state() private cursor: string | null = null;
  @state() private loading = false;
  @state() private problem = "";
  @state() private current: Video | undefined;
  @state() private playerProblem = "";
  @state() private uploadProgress: number | undefined;
  @state() private uploadMessage = "";

  @query("dialog") private dialog!: HTMLDialogElement;
  @query("video") private media!: HTMLVideoElement;
  @query('input[type="file"]') private fileInput!: HTMLInputElement;

  private listing: AbortController | undefined;
  private searchTimer: ReturnType<typeof setTimeout> | undefined;
  private session: PlaybackSession | undefined;
  private upload: XMLHttpRequest | undefined;
  private opener: HTMLElement | undefined;
  private readonly l10n = new Localizer(this, GALLERY_STRINGS, import.meta.glob("./translations/*.ts"));

  /** The text in the language shown (the playback session reports in it too). */
  get text(): GalleryStrings {
    return this.l10n.text;
  }

  protected static override readonly restartOn = ["search", "pageSize"];

  protected override start(): void {
    void this.load(false);
  }

  protected override stop(): void {
    // Nothing may fetch after the element leaves the page.
    this.listing?.abort();
    this.listing = undefined;
    clearTimeout(this.searchTimer);
    this.stopPlayback();
    if (this.dialog?.open) this.dialog.close();
    this.current = undefined;
    this.upload?.abort();
    this.upload = undefined;
  }

  /** Loads the first page again (`more = false`) or the next page. */
  async load(more: boolean): Promise<void> {
    if (!this.isConnected) return;
    this.listing?.abort();
    const controller = new AbortController();
    this.listing = controller;
    this.loading = true;
    this.problem = "";
    const limit = Number.isInteger(this.pageSize) && this.pageSize >= 1 && this.pageSize <= 50 ? this.pageSize : 12;
    try {
      const url = apiUrl(this.endpointUrl, "/api/videos", { limit, search: this.search.trim() || undefined, cursor: more ? (this.cursor ?? undefined) : undefined });
      const response = await fetch(url, { signal: controller.signal });
      const body = (await response.json().catch(() => undefined)) as { videos?: Video[]; cursor?: string | null; error?: { message?: string } } | undefined;
      if (!response.ok || !body?.videos) throw new Error(body?.error?.message ?? this.text.listUnavailable(response.status));
      this.videos = more ? [...this.videos, ...body.videos] : body.videos;
      this.cursor = body.cursor ?? null;
    } catch (error) {
      if (controller.signal.aborted) return;
      this.fail(this.text.videosUnavailable((error as Error).message));
    } finally {
      if (this.listing === controller) {
        this.listing = undefined;
        this.loading = false;
      }
    }
  }

  /** Opens `uid` (one of the listed videos) in the player and plays it. */
  async open(uid: string, opener?: HTMLElement): Promise<void> {
    const video = this.videos.find((v) => v.uid === uid);
    if (!video) return;
    this.stopPlayback();
    this.opener = opener ?? (this.shadowRoot?.activeElement as HTMLElement | null) ?? undefined;
    this.current = video;
    this.playerProblem = "";
    await this.updateComplete;
    if (!this.isConnected || this.current !== video) return;
    if (!this.dialog.open) this.dialog.showModal();
    this.media.focus();
    emit(this, "edge-video-open", { uid, name: video.name });
    this.session = new PlaybackSession(this, video, this.media);
    void this.session.start(this.engineFor(video));
  }

  /** Closes the player, stops all its loading and returns focus to the video's button. */
  close(): void {
    if (this.dialog?.open) this.dialog.close();
  }

  private onDialogClose(): void {
    const uid = this.current?.uid;
    this.stopPlayback();
    this.current = undefined;
    this.opener?.focus();
    this.opener = undefined;
    if (uid) emit(this, "edge-video-close", { uid });
  }

  private stopPlayback(): void {
    this.session?.destroy();
    this.session = undefined;
  }

  /** Which engine plays this video (see `prefer-playback`). */
  private engineFor(video: Video): PlaybackEngine {
    if (!video.playback.hls) return "native";
    const native = this.media.canPlayType(HLS_TYPE) !== "";
    const mse = typeof MediaSource !== "undefined" || "ManagedMediaSource" in globalThis;
    if (this.preferPlayback === "mse") return mse || !native ? "mse" : "native";
    if (this.preferPlayback === "native") return native || !mse ? "native" : "mse";
    return native ? "native" : "mse";
  }

  /** The session's hooks: a fresh signed URL, and what to show. */
  async freshVideo(uid: string): Promise<Video> {
    const response = await fetch(apiUrl(this.endpointUrl, `/api/videos/${uid}`));
    if (response.status === 404) throw new Error(this.text.gone);
    if (!response.ok) {
      // The server says why (a rate limit says when to try again).
      const body = (await response.json().catch(() => null)) as { error?: { message?: string } } | null;
      throw new Error(body?.error?.message ?? this.text.videoUnavailable(response.status));
    }
    const video = (await response.json()) as Video;
    this.videos = this.videos.map((v) => (v.uid === uid ? video : v));
    return video;
  }

  playing(uid: string, engine: PlaybackEngine): void {
    this.playerProblem = "";
    this.setAttribute("playing", engine);
    emit(this, "edge-video-playing", { uid, engine });
  }

  playbackFailed(uid: string, code: string, message: string): void {
    this.playerProblem = message;
    emit(this, "edge-video-error", { uid, code, message });
  }

  resolveMedia(path: string): string {
    return new URL(path, this.endpointUrl).href;
  }

  private fail(message: string, code = "list_failed"): void {
    this.problem = message;
    emit(this, "edge-video-error", { code, message });
  }

  private onSearchInput(event: Event): void {
    const value = (event.target as HTMLInputElement).value;
    clearTimeout(this.searchTimer);
    this.searchTimer = setTimeout(() => {
      this.search = value;
    }, 250);
  }

  private onSearchSubmit(event: Event): void {
    event.preventDefault();
    clearTimeout(this.searchTimer);
    const value = (this.renderRoot.querySelector('input[type="search"]') as HTMLInputElement).value;
    if (value === this.search) void this.load(false);
    else this.search = value;
  }

  /** Keys on the player: Space/K play or pause, ←/→ seek 5 s, J/L seek 10 s, M mutes. Esc closes (the dialog's own). */
  private onPlayerKey(event: KeyboardEvent): void {
    const media = this.media;
    if (!media || event.altKey || event.ctrlKey || event.metaKey) return;
    const onButton = (event.composedPath()[0] as HTMLElement | undefined)?.tagName === "BUTTON";
    const seek = (by: number) => {
      media.currentTime = Math.max(0, Math.min(Number.isFinite(media.duration) ? media.duration : Infinity, media.currentTime + by));
    };
    switch (event.key) {
      case " ":
      case "k":
        if (onButton && event.key === " ") return;
        if (media.paused) void media.play().catch(() => undefined);
        else media.pause();
        break;
      case "ArrowLeft":
        seek(-5);
        break;
      case "ArrowRight":
        seek(5);
        break;
      case "j":
        seek(-10);
        break;
      case "l":
        seek(10);
        break;
      case "m":
        media.muted = !media.muted;
        break;
      default:
        return;
    }
    event.preventDefault();
  }

  private chooseFile(): void {
    this.fileInput.value = "";
    this.fileInput.click();
  }

  /** Asks the backend for a one-time upload URL, then sends the file there with a real progress bar. */
  private async uploadFile(): Promise<void> {
    const file = this.fileInput.files?.[0];
    if (!file || !this.uploadToken) return;
    const t = this.text;
    const name = file.name.replace(/\.[^.]+$/, "").slice(0, 100) || t.untitled;
    this.uploadProgress = 0;
    this.uploadMessage = t.uploading(name);
    try {
      const response = await fetch(apiUrl(this.endpointUrl, "/api/videos/uploads"), {
        method: "POST",
        headers: { Authorization: `Bearer ${this.uploadToken}`, "Content-Type": "application/json" },
        body: JSON.stringify({ name }),
      });
      const body = (await response.json().catch(() => undefined)) as { uid?: string; uploadURL?: string; error?: { message?: string } } | undefined;
      if (!response.ok || !body?.uploadURL || !body.uid) throw new Error(body?.error?.message ?? t.uploadsUnavailable(response.status));
      if (!this.isConnected) return;
      await this.send(body.uploadURL, file);
      this.uploadMessage = t.uploaded(name);
      emit(this, "edge-video-uploaded", { uid: body.uid, name });
      await this.load(false);
    } catch (error) {
      if (!this.isConnected) return;
      this.uploadMessage = t.uploadFailed((error as Error).message);
      emit(this, "edge-video-error", { code: "upload_failed", message: this.uploadMessage });
    } finally {
      this.uploadProgress = undefined;
    }
  }

  private send(url: string, file: File): Promise<void> {
    return new Promise((done, fail) => {
      const xhr = new XMLHttpRequest();
      this.upload = xhr;
      const form = new FormData();
      form.append("file", file);
      xhr.upload.addEventListener("progress", (event) => {
        if (event.lengthComputable) this.uploadProgress = Math.round((event.loaded / event.total) * 100);
      });
      xhr.addEventListener("load", () => {
        this.upload = undefined;
        if (xhr.status >= 200 && xhr.status < 300) return done();
        let message = this.text.serverAnswered(xhr.status);
        try {
          message = (JSON.parse(xhr.responseText) as { error?: { message?: string } }).error?.message ?? message;
        } catch {
          // Not JSON (Stream answers some errors as text).
        }
        fail(new Error(message));
      });
      xhr.addEventListener("error", () => fail(new Error(this.text.connectionFailed)));
      xhr.addEventListener("abort", () => fail(new Error(this.text.cancelled)));
      xhr.open("POST", url);
      xhr.send(form);
    });
  }

  /** A clock-style length ("1:05"), in the language's digits. */
  private duration(seconds: number): string {
    const [h, m, s] = hms(seconds);
    const two = (n: number) => this.l10n.number(n, { minimumIntegerDigits: 2 });
    return h > 0 ? `${this.l10n.number(h)}:${two(m)}:${two(s)}` : `${this.l10n.number(m)}:${two(s)}`;
  }

  /** The length in words, for screen readers ("1 minute, 5 seconds"). */
  private spokenDuration(seconds: number): string {
    const [h, m, s] = hms(seconds);
    const units = [[h, "hour"], [m, "minute"], [s, "second"]] as const;
    const said = units.filter(([n], i) => n > 0 || (i === 2 && h === 0 && m === 0)).map(([n, unit]) => this.l10n.number(n, { style: "unit", unit, unitDisplay: "long" }));
    return new Intl.ListFormat(this.l10n.locale, { style: "long", type: "unit" }).format(said);
  }

  protected override render() {
    const t = this.text;
    const status = this.problem || (this.loading ? t.loading : this.videos.length === 0 ? (this.search ? t.noMatch(this.search) : t.empty) : "");
    return html`
      <div class="bar">
        <!-- Not a search landmark: two galleries on a page would make two alike; landmarks are the page's. -->
        <form class="search" @submit=${this.onSearchSubmit}>
          <label>
            ${t.searchLabel}
            <input part="search" type="search" .value=${this.search} @input=${this.onSearchInput} autocomplete="off" />
          </label>
        </form>
        ${this.uploadToken
          ? html`
              <button part="upload" class="button" type="button" ?disabled=${this.uploadProgress !== undefined} @click=${this.chooseFile}>${t.upload}</button>
              <input class="visually-hidden" type="file" accept="video/mp4,video/*" tabindex="-1" aria-hidden="true" @change=${this.uploadFile} />
              ${this.uploadProgress !== undefined
                ? html`<progress part="progress" max="100" .value=${this.uploadProgress} aria-label=${t.uploadProgress}>${this.uploadProgress}%</progress>`
                : nothing}
            `
          : nothing}
      </div>
      ${this.uploadMessage ? html`<span part="status upload-status" role="status">${this.uploadMessage}</span>` : nothing}
      <ul part="grid" aria-label=${t.gridLabel} aria-busy=${this.loading}>
        ${this.videos.map(
          (video) => html`
            <li>
              <button
                part="video"
                type="button"
                data-uid=${video.uid}
                @click=${(event: Event) => this.open(video.uid, event.currentTarget as HTMLElement)}
              >
                <span class="frame">
                  ${video.thumbnail ? html`<img part="thumbnail" src=${this.resolveMedia(video.thumbnail)} alt="" loading="lazy" decoding="async" />` : nothing}
                  <span part="duration" aria-hidden="true">${this.duration(video.duration)}</span>
                </span>
                <span part="name" dir="auto">${video.name}</span
                ><span class="visually-hidden">${t.lengthIs(this.spokenDuration(video.duration))}</span>
              </button>
            </li>
          `,
        )}
      </ul>
      ${this.cursor
        ? html`<div class="actions"><button part="more" class="button" type="button" ?disabled=${this.loading} @click=${() => this.load(true)}>${t.more}</button></div>`
        : nothing}
      <span part="status" class=${this.problem ? "problem" : ""} role="status">${status}</span>
      <dialog part="player" aria-labelledby="player-title" @close=${this.onDialogClose} @keydown=${this.onPlayerKey}>
        <div class="player-head">
          <h2 id="player-title" dir="auto">${this.current?.name ?? ""}</h2>
          <button part="close" class="button" type="button" @click=${this.close}>${t.close}</button>
        </div>
        <video part="media" controls playsinline preload="none" tabindex="0" aria-label=${this.current ? t.videoNamed(this.current.name) : t.video}></video>
        <span class="problem" role="status">${this.playerProblem}</span>
      </dialog>
    `;
  }
}

/** Hours, minutes and seconds of a length in seconds. */
function hms(seconds: number): [number, number, number] {
  const total = Math.max(0, Math.round(seconds));
  return [Math.floor(total / 3600), Math.floor((total % 3600) / 60), total % 60];
}

/**
 * One video playing in the player: picks the engine, loads hls.js only if it is needed, renews
 * the signed URL after a 401/403 and resumes at the same time, recovers one fatal media error,
 * and tears everything down so nothing loads after `destroy`.
 */
class PlaybackSession {
  private hls: Hls | undefined;
  private destroyed = false;
  private engine: PlaybackEngine = "native";
  private renewals = 0;
  private recoveredMedia = false;
  private triedMse = false;
  private announced = false;
  private readonly listeners = new AbortController();

  constructor(
    private readonly gallery: VideoGallery,
    private video: Video,
    private readonly media: HTMLVideoElement,
  ) {
    const signal = this.listeners.signal;
    media.addEventListener("playing", () => this.onPlaying(), { signal });
    media.addEventListener("error", () => void this.onNativeError(), { signal });
    // Playback moving on means the current URL works: allow another renewal when it next expires.
    media.addEventListener(
      "timeupdate",
      () => {
        if (!media.paused && media.currentTime > 0) this.renewals = 0;
      },
      { signal },
    );
  }

  async start(engine: PlaybackEngine, at = 0, play = true): Promise<void> {
    this.engine = engine;
    if (engine === "mse" && this.video.playback.hls) await this.startMse(this.gallery.resolveMedia(this.video.playback.hls), at, play);
    else this.startNative(this.gallery.resolveMedia(this.video.playback.hls ?? this.video.playback.mp4 ?? ""), at, play);
  }

  private startNative(src: string, at: number, play: boolean): void {
    if (this.destroyed) return;
    this.media.src = src;
    if (at > 0) this.media.addEventListener("loadedmetadata", () => (this.media.currentTime = at), { once: true, signal: this.listeners.signal });
    if (play) this.play();
  }

  private async startMse(src: string, at: number, play: boolean): Promise<void> {
    this.triedMse = true;
    // The one place hls.js is loaded: a separate chunk, fetched on the first play that needs it.
    const { default: HlsEngine } = await import("hls.js");
    if (this.destroyed) return;
    if (!HlsEngine.isSupported()) {
      this.fail("no_mse", this.gallery.text.cannotPlay);
      return;
    }
    const hls = new HlsEngine({ startPosition: at > 0 ? at : -1, capLevelToPlayerSize: true });
    this.hls = hls;
    hls.on(HlsEngine.Events.ERROR, (_event, data) => void this.onHlsError(hls, data));
    hls.loadSource(src);
    hls.attachMedia(this.media);
    if (play) this.play();
  }

  private play(): void {
    void this.media.play().catch((error: unknown) => {
      // Autoplay may be refused; the controls are there. Aborted plays (on destroy) are not errors.
      if ((error as DOMException).name === "NotAllowedError") this.media.controls = true;
    });
  }

  private onPlaying(): void {
    if (this.announced) return;
    this.announced = true;
    this.gallery.playing(this.video.uid, this.engine);
  }

  private async onHlsError(hls: Hls, data: ErrorData): Promise<void> {
    if (this.destroyed || hls !== this.hls) return;
    const status = data.response?.code;
    if (status === 401 || status === 403) {
      await this.renew();
      return;
    }
    if (!data.fatal) return;
    if (data.type === "mediaError" && !this.recoveredMedia) {
      this.recoveredMedia = true;
      hls.recoverMediaError();
      return;
    }
    this.fail(data.type === "networkError" ? "network" : "media", this.gallery.text.playbackFailed(data.details));
  }

  private async onNativeError(): Promise<void> {
    if (this.destroyed || this.hls || !this.media.getAttribute("src")) return;
    const code = this.media.error?.code;
    // The element does not say whether the server answered 401/403, so renew the token once first.
    if (this.renewals === 0) {
      await this.renew();
      return;
    }
    if (code === MediaError.MEDIA_ERR_DECODE && !this.recoveredMedia) {
      this.recoveredMedia = true;
      this.restart(this.engine);
      return;
    }
    // Native HLS claimed but failing (some Chrome builds): fall back to hls.js once.
    if (this.video.playback.hls && !this.triedMse && this.gallery.preferPlayback !== "native" && typeof MediaSource !== "undefined") {
      this.restart("mse");
      return;
    }
    this.fail("media", this.gallery.text.couldNotPlay);
  }

  /** A fresh signed URL for the same video, resumed at the same time. */
  private async renew(): Promise<void> {
    if (this.renewals > 0) {
      this.fail("forbidden", this.gallery.text.noLongerPlayable);
      return;
    }
    this.renewals++;
    try {
      const fresh = await this.gallery.freshVideo(this.video.uid);
      if (this.destroyed) return;
      this.video = fresh;
      this.restart(this.engine);
    } catch (error) {
      if (!this.destroyed) this.fail("renew_failed", (error as Error).message);
    }
  }

  private restart(engine: PlaybackEngine): void {
    const at = this.media.currentTime;
    const play = !this.media.paused || !this.announced;
    this.teardownEngine();
    void this.start(engine, at, play);
  }

  private fail(code: string, message: string): void {
    this.gallery.playbackFailed(this.video.uid, code, message);
  }

  private teardownEngine(): void {
    this.hls?.destroy();
    this.hls = undefined;
    this.media.pause();
    this.media.removeAttribute("src");
    this.media.load();
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.listeners.abort();
    this.teardownEngine();
    this.gallery.removeAttribute("playing");
  }
}

define("video-gallery", VideoGallery);
