package server

import (
	"context"
	"encoding/json"

	"github.com/falproxy/falproxy/internal/audio"
	"github.com/falproxy/falproxy/internal/chat"
	"github.com/falproxy/falproxy/internal/fal"
	"github.com/falproxy/falproxy/internal/images"
	"github.com/falproxy/falproxy/internal/store"
)

// resultMeasure reads the work a fal job's result reports, as the
// handler that ran the job would have reported it.
type resultMeasure func(result []byte) falWork

// chargeLate arranges for a fal job run under the returned context to be
// charged if it is found billed only after it was abandoned: the client
// left while falproxy waited for it, and fal had completed it before the
// cancel arrived. The request's own row, written when it ended, charged
// nothing for the job; a settlement row charges what the job's result
// reports (measure), settled as the request's answer would have been,
// and counts it against the key's budget. A result measure cannot read
// leaves the estimate standing (settled); a job of unknown cost (an
// unpriced model, a transcription of unknown length) adds no row.
func (s *Server) chargeLate(ctx context.Context, measure resultMeasure) context.Context {
	m, _ := ctx.Value(meteringKey{}).(*metering)
	if s.opt.Gate == nil || m == nil {
		return ctx
	}
	return fal.WithBilledLate(ctx, func(requestID string, result []byte) {
		if !m.admitted {
			return
		}
		var work falWork
		if measure != nil {
			work = measure(result)
		}
		work.jobs = 1
		c := settled(m.job, m.estimate, m.price, m.priced, 0, work)
		if c.cost == nil { // nothing to charge: the request's row names the job
			return
		}
		row := settlementRow(ctx, m.sess, m.job.alias, m.job.endpoint, requestID, c)
		s.opt.Gate.Adjust(row)
		s.opt.Metrics.Cost(row.KeyName, row.Alias, store.MicrosToUSD(*c.cost))
	})
}

// imagesWork measures the result of an image job that asked for asked
// images: the images it made.
func imagesWork(asked int) resultMeasure {
	return func(result []byte) falWork {
		out, _ := images.ParseOutput(result)
		return falWork{images: imagesMade(out, asked)}
	}
}

// imagesMade is how many images fal bills for a job's output out: those
// it made, or those the job asked for when its output is unknown (nil).
func imagesMade(out *images.Output, asked int) int {
	if out == nil {
		return asked
	}
	return len(out.Images)
}

// chatWork measures the result of a chat job whose prompt had promptChars
// characters: the tokens its usage reports, or estimates.
func chatWork(promptChars int) resultMeasure {
	return func(result []byte) falWork {
		var out chat.FalOutput
		if json.Unmarshal(result, &out) != nil {
			return falWork{}
		}
		return usageWork(chat.Usage(out.Usage, promptChars, out.Chars()), out.Usage)
	}
}

// transcriptWork measures the result of a transcription: the seconds its
// transcript covers.
func transcriptWork(result []byte) falWork {
	t, err := audio.ParseTranscript(result)
	if err != nil {
		return falWork{}
	}
	return falWork{seconds: t.Duration()}
}
