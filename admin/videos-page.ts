import { LitElement, html } from "lit";
import { state } from "lit/decorators.js";
import type { AdminVideo } from "../contract/admin.ts";
import { call, part, problem } from "./api.ts";
import { consoleStyles } from "./console.styles.ts";
import { feedback } from "./feedback.ts";
import { PagedList, pager } from "./paged-list.ts";

declare global {
  interface HTMLElementTagNameMap {
    "videos-page": VideosPage;
  }
}

type Video = AdminVideo;

/** Sends the file to the one-time upload URL, reporting progress from the upload's own events. */
function sendFile(uploadURL: string, file: File, progress: (fraction: number) => void): Promise<void> {
  return new Promise((done, fail) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", uploadURL);
    xhr.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) progress(event.loaded / event.total);
    });
    xhr.addEventListener("load", () => {
      if (xhr.status >= 200 && xhr.status < 300) done();
      else fail(new Error(`The upload was refused (${xhr.status}): ${xhr.responseText.slice(0, 200)}`));
    });
    xhr.addEventListener("error", () => fail(new Error("The upload failed: network error.")));
    const form = new FormData();
    form.set("file", file);
    xhr.send(form);
  });
}

/** Every video, private and unfinished ones too: upload with progress, rename, show or hide, delete. */
export class VideosPage extends LitElement {
  static override styles = consoleStyles;

  private readonly videos = new PagedList<Video>(this, async (cursor) => {
    const page = await call<{ videos: Video[]; cursor: string | null }>(`/api/admin/videos?limit=20${cursor ? `&cursor=${part(cursor)}` : ""}`);
    return { items: page.videos, cursor: page.cursor };
  });

  @state() private progress: number | undefined;
  @state() private error = "";
  @state() private notice = "";

  override connectedCallback(): void {
    super.connectedCallback();
    void this.videos.reload();
  }

  private async upload(event: SubmitEvent): Promise<void> {
    event.preventDefault();
    const form = event.target as HTMLFormElement;
    const data = new FormData(form);
    const file = data.get("file") as File;
    this.error = "";
    this.notice = "";
    try {
      const { uploadURL } = await call<{ uploadURL: string }>("/api/videos/uploads", {
        method: "POST",
        body: { name: String(data.get("name")).trim() || file.name, visibility: String(data.get("visibility")) },
      });
      this.progress = 0;
      await sendFile(uploadURL, file, (fraction) => (this.progress = fraction));
      this.notice = `Uploaded ${file.name}.`;
      form.reset();
      await this.videos.reload();
    } catch (error) {
      this.error = problem(error);
    } finally {
      this.progress = undefined;
    }
  }

  private async change(video: Video, change: Partial<Pick<Video, "name" | "visibility">>): Promise<void> {
    this.error = "";
    this.notice = "";
    try {
      const updated = await call<Video>(`/api/videos/${video.uid}`, { method: "PATCH", body: change });
      this.videos.items = this.videos.items.map((item) => (item.uid === video.uid ? updated : item));
      this.notice = change.name !== undefined ? `Renamed to ${updated.name}.` : `${updated.name} is now ${updated.visibility}.`;
      this.requestUpdate();
    } catch (error) {
      this.error = problem(error);
    }
  }

  private rename(event: SubmitEvent, video: Video): void {
    event.preventDefault();
    const name = ((event.target as HTMLFormElement).elements.namedItem("name") as HTMLInputElement).value.trim();
    if (name && name !== video.name) void this.change(video, { name });
  }

  private async deleteVideo(video: Video): Promise<void> {
    if (!confirm(`Delete ${video.name} for good?`)) return;
    this.error = "";
    try {
      await call(`/api/videos/${video.uid}`, { method: "DELETE" });
      this.videos.items = this.videos.items.filter((item) => item.uid !== video.uid);
      this.notice = `Deleted ${video.name}.`;
      this.requestUpdate();
    } catch (error) {
      this.error = problem(error);
    }
  }

  override render() {
    const list = this.videos;
    return html`
      <h2>Videos</h2>
      <form class="panel" @submit=${this.upload} aria-labelledby="upload-title">
        <h3 id="upload-title">Upload a video</h3>
        <div class="row">
          <label>File (MP4) <input name="file" type="file" accept="video/mp4,video/*" required /></label>
          <label>Name <input name="name" maxlength="100" /></label>
          <label>Who sees it <select name="visibility"><option value="public">Public</option><option value="private">Private</option></select></label>
          <button type="submit" class="primary" ?disabled=${this.progress !== undefined}>Upload</button>
        </div>
        ${this.progress !== undefined
          ? html`<label>Uploading <progress max="1" .value=${this.progress}>${Math.round(this.progress * 100)}%</progress></label>`
          : ""}
      </form>
      ${feedback(this.notice, this.error)}
      <div class="panel">
        <table>
          <thead>
            <tr><th scope="col">Name</th><th scope="col">Added</th><th scope="col" class="number">Length</th><th scope="col">State</th><th scope="col">Who sees it</th><th scope="col">Delete</th></tr>
          </thead>
          <tbody>
            ${list.items.map(
              (video) => html`<tr data-video=${video.uid}>
                <td>
                  <form class="row" @submit=${(event: SubmitEvent) => this.rename(event, video)}>
                    <label><span class="visually-hidden">Name of ${video.uid}</span><input name="name" .value=${video.name} maxlength="100" /></label>
                    <button type="submit" aria-label=${`Rename ${video.name}`}>Rename</button>
                  </form>
                </td>
                <td>${new Date(video.created).toLocaleDateString()}</td>
                <td class="number">${Math.round(video.duration)} s</td>
                <td>${video.status}</td>
                <td>
                  <label
                    ><span class="visually-hidden">Visibility of ${video.name}</span>
                    <select @change=${(event: Event) => this.change(video, { visibility: (event.target as HTMLSelectElement).value as Video["visibility"] })}>
                      <option value="public" ?selected=${video.visibility === "public"}>Public</option>
                      <option value="private" ?selected=${video.visibility === "private"}>Private</option>
                    </select></label
                  >
                </td>
                <td><button type="button" class="danger" @click=${() => this.deleteVideo(video)} aria-label=${`Delete ${video.name}`}>Delete</button></td>
              </tr>`,
            )}
          </tbody>
        </table>
        ${pager(list, "videos")}
      </div>
    `;
  }
}

customElements.define("videos-page", VideosPage);
