/** What the video API (`GET /api/videos`, `GET /api/videos/{uid}`) answers, as `<video-gallery>` reads it. */

/** One public, ready video as the API hands it out: its media URLs carry fresh tokens. */
export interface Video {
  uid: string;
  name: string;
  /** Seconds. */
  duration: number;
  /** ISO 8601. */
  created: string;
  /** A signed JPEG URL, or null when the video has none (a local MP4 upload). */
  thumbnail: string | null;
  playback: {
    /** A signed HLS manifest URL, or null when the video plays only as MP4. */
    hls: string | null;
    /** A signed progressive MP4 URL, when the video has one. */
    mp4?: string;
  };
  /** When the signed URLs stop working (ISO 8601). */
  expiresAt: string;
}

export interface VideoPage {
  videos: Video[];
  /** Pass back as `cursor` for the next page; null on the last page. */
  cursor: string | null;
}
