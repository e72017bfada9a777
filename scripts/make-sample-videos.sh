#!/usr/bin/env bash
# Regenerates the sample videos of the local video library (demo/videos/): a few seconds of
# synthetic picture and tone each, as HLS with fMP4 segments plus a JPEG thumbnail. The output
# is committed, so only someone changing the samples needs ffmpeg (`apt-get install ffmpeg`).
set -euo pipefail
cd "$(dirname "$0")/.."
out=demo/videos
rm -rf "$out"
mkdir -p "$out"

# uid | name | seconds | ffmpeg picture source | tone Hz | visibility | created
samples=(
  "5d5bc37ffcf54c9b82e996823bffbb81|Test card with tone|4|testsrc2=size=320x180:rate=15|440|public|2026-01-05T09:00:00Z"
  "a3e7f1b2c4d54e6f8091a2b3c4d5e6f7|Colour bars|3|smptebars=size=320x180:rate=15|660|public|2026-02-10T12:30:00Z"
  "0b1c2d3e4f5a4b6c8d7e9f0a1b2c3d4e|Mandelbrot zoom|3|mandelbrot=size=320x180:rate=15|330|public|2026-03-15T18:45:00Z"
  "f0e1d2c3b4a54968a7b6c5d4e3f2a1b0|Rehearsal (private)|2|rgbtestsrc=size=320x180:rate=15|880|private|2026-04-20T07:15:00Z"
)

entries=()
for sample in "${samples[@]}"; do
  IFS='|' read -r uid name seconds picture tone visibility created <<<"$sample"
  dir="$out/$uid"
  mkdir -p "$dir"
  ffmpeg -hide_banner -loglevel error -y \
    -f lavfi -i "$picture" -f lavfi -i "sine=frequency=$tone:sample_rate=44100" \
    -t "$seconds" -map 0:v -map 1:a \
    -c:v libx264 -profile:v main -preset veryfast -crf 32 -pix_fmt yuv420p -g 15 -keyint_min 15 -sc_threshold 0 \
    -c:a aac -b:a 48k -ac 1 \
    -f hls -hls_time 1 -hls_playlist_type vod -hls_segment_type fmp4 \
    -hls_fmp4_init_filename init.mp4 -hls_segment_filename "$dir/seg%d.m4s" \
    -master_pl_name video.m3u8 "$dir/stream.m3u8"
  ffmpeg -hide_banner -loglevel error -y -f lavfi -i "$picture" -frames:v 1 -q:v 6 "$dir/thumbnail.jpg"
  duration=$(awk -F'[:,]' '/^#EXTINF/ { total += $2 } END { printf "%.3f", total }' "$dir/stream.m3u8")
  entries+=("{\"uid\":\"$uid\",\"name\":\"$name\",\"duration\":$duration,\"created\":\"$created\",\"visibility\":\"$visibility\",\"files\":[$(cd "$dir" && ls | sed 's/.*/"&"/' | paste -sd, -)]}")
done

{
  echo "["
  for i in "${!entries[@]}"; do
    sep=","; [ "$i" -eq $((${#entries[@]} - 1)) ] && sep=""
    echo "  ${entries[$i]}$sep"
  done
  echo "]"
} >"$out/library.json"
du -sh "$out"

# A small progressive MP4 for the upload tests (not part of the library's seed).
mkdir -p test/fixtures
ffmpeg -hide_banner -loglevel error -y -f lavfi -i "testsrc=size=160x90:rate=15" -f lavfi -i "sine=frequency=550:sample_rate=44100" \
  -t 2 -map 0:v -map 1:a -c:v libx264 -profile:v main -preset veryfast -crf 34 -pix_fmt yuv420p -c:a aac -b:a 32k -ac 1 \
  -movflags +faststart test/fixtures/upload-sample.mp4
du -sh test/fixtures/upload-sample.mp4
