package video

import (
	"math"
	"regexp"
	"strconv"
	"time"
)

// Video is OpenAI's Video object.
type Video struct {
	ID                 string  `json:"id"`
	Object             string  `json:"object"` // always "video"
	Model              string  `json:"model"`
	Status             Status  `json:"status"`
	Progress           int     `json:"progress"`
	CreatedAt          int64   `json:"created_at"`
	CompletedAt        *int64  `json:"completed_at"`
	ExpiresAt          *int64  `json:"expires_at"`
	Prompt             string  `json:"prompt"`
	Seconds            string  `json:"seconds"`
	Size               string  `json:"size"`
	RemixedFromVideoID *string `json:"remixed_from_video_id"`
	Error              *Error  `json:"error"`
}

// Error is why a video failed.
type Error struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Status is a Video's status.
type Status string

// The statuses of OpenAI's Video object.
const (
	Queued     Status = "queued"
	InProgress Status = "in_progress"
	Completed  Status = "completed"
	Failed     Status = "failed"
)

// Deleted is the answer to DELETE /v1/videos/{id}.
type Deleted struct {
	ID      string `json:"id"`
	Object  string `json:"object"` // always "video.deleted"
	Deleted bool   `json:"deleted"`
}

// New is the Video object of an id's Ref, queued.
func New(id string, ref *Ref) Video {
	v := Video{ID: id, Object: "video", Model: ref.Model, Status: Queued, CreatedAt: ref.CreatedAt,
		Prompt: ref.Prompt, Seconds: ref.Seconds, Size: ref.Size}
	if ref.RemixedFrom != "" {
		v.RemixedFromVideoID = &ref.RemixedFrom
	}
	return v
}

// percent finds a percentage in a log line: "42%", "progress: 42.5 %".
var percent = regexp.MustCompile(`(\d{1,3}(?:\.\d+)?)\s*%`)

// Progress is how far a running job has come: the percentage of the last
// log line that carries one, when the model logs it; otherwise a slow
// curve of the time since it was created that never passes 90, since the
// real end is unknown.
func Progress(logs []string, elapsed time.Duration) int {
	for i := len(logs) - 1; i >= 0; i-- {
		m := percent.FindAllStringSubmatch(logs[i], -1)
		if len(m) == 0 {
			continue
		}
		n, err := strconv.ParseFloat(m[len(m)-1][1], 64)
		if err == nil && n <= 100 {
			return min(int(n), 99)
		}
	}
	return min(90, int(90*(1-math.Exp(-elapsed.Seconds()/progressPace))))
}

// progressPace is the time constant of the progress curve: a third of the
// way after about 30s, 80% of 90 after about two minutes, as video models
// take from one minute to several.
const progressPace = 75
