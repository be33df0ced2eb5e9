package falfake

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// videoAssets are the files every video model answers with: a 1-second
// 160x90 H.264 MP4 that browsers play, a JPEG thumbnail and a JPEG
// spritesheet of four frames. They were made once with:
//
//	ffmpeg -f lavfi -i "testsrc2=size=160x90:rate=24:duration=1" -c:v libx264 -profile:v baseline \
//	  -level 3.0 -pix_fmt yuv420p -movflags +faststart -crf 35 -an sample.mp4
//	ffmpeg -f lavfi -i "testsrc2=size=160x90:rate=1:duration=1" -frames:v 1 -q:v 8 thumbnail.jpg
//	ffmpeg -f lavfi -i "testsrc2=size=80x45:rate=4:duration=1" -vf "tile=4x1" -frames:v 1 -q:v 8 spritesheet.jpg
//
//go:embed videoassets/*
var videoAssets embed.FS

// videoPath is where the emulator's CDN serves the video assets.
const videoPath = "/files/video/"

// videoFiles are the output fields of video models and the asset each
// points at.
var videoFiles = []struct{ field, name, contentType string }{
	{"video", "sample.mp4", "video/mp4"},
	{"thumbnail", "thumbnail.jpg", "image/jpeg"},
	{"spritesheet", "spritesheet.jpg", "image/jpeg"},
}

// VideoAsset returns the bytes of a video asset ("sample.mp4",
// "thumbnail.jpg", "spritesheet.jpg"), for tests comparing downloads.
func VideoAsset(name string) []byte {
	b, err := videoAssets.ReadFile("videoassets/" + name)
	if err != nil {
		panic("falfake: no video asset " + name)
	}
	return b
}

// remixPrefix starts the video_id of the emulator's video outputs.
const remixPrefix = "vid_"

// videoOutcome answers a video model: the output fields its schema
// declares (video, and thumbnail, spritesheet and video_id where
// declared), with the URLs of the emulator's assets. A remix input's
// video_id must be one the emulator gave out.
func (f *Fake) videoOutcome(x execution, in node) outcome {
	m := x.model
	if id, ok := in["video_id"].(string); ok && m.has("video_id") && !f.issuedVideo(id) {
		return validationOutcome([]detail{{Type: "value_error", Loc: []any{"body", "video_id"},
			Msg: "Value error, video not found", Input: id}})
	}
	out := node{}
	for _, f := range videoFiles {
		b := VideoAsset(f.name)
		out[f.field] = map[string]any{"url": x.cdnBase + videoPath + f.name, "content_type": f.contentType,
			"file_name": f.name, "file_size": len(b)}
	}
	sum := sha256.Sum256(x.body)
	out["video_id"] = remixPrefix + hex.EncodeToString(sum[:8])
	f.videoIDs.Store(out["video_id"], f.videoSeconds(m, in))
	out["seed"] = seedOf(m.param(in, "seed"), fmt.Sprint(in["prompt"]))
	return successOutcome(m.pick(out))
}

// videoSeconds is the length of the video a job makes: what its input
// asks for (or its schema's default), or a remix's source video's.
func (f *Fake) videoSeconds(m *model, in node) float64 {
	if id, ok := in["video_id"].(string); ok {
		if secs, ok := f.videoIDs.Load(id); ok {
			return secs.(float64)
		}
	}
	secs, _ := strconv.ParseFloat(strings.TrimSuffix(fmt.Sprint(m.param(in, "duration")), "s"), 64)
	return secs
}

// issuedVideo reports whether id is a video_id an output gave out.
func (f *Fake) issuedVideo(id string) bool {
	_, ok := f.videoIDs.Load(id)
	return ok
}

// progressLog is a log line with the share of the generation done, as
// video models log their progress.
func (j *job) progressLog(now time.Time) logEntry {
	pct := 0
	if total := j.finished.Sub(j.started); total > 0 {
		pct = int(100 * now.Sub(j.started) / total)
	}
	return logEntry{fmt.Sprintf("Generating video: %d%%", min(max(pct, 0), 99)), "INFO", "USER", now.UTC().Format(time.RFC3339Nano)}
}

// serveVideoAsset serves a video asset with Range support, as fal's CDN
// does; false when the path is not one.
func serveVideoAsset(w http.ResponseWriter, r *http.Request) bool {
	name, ok := strings.CutPrefix(r.URL.Path, videoPath)
	if !ok {
		return false
	}
	for _, f := range videoFiles {
		if f.name == name {
			w.Header().Set("Content-Type", f.contentType)
			http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(VideoAsset(name)))
			return true
		}
	}
	return false
}
