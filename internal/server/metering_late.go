package server

import (
	"context"

	"github.com/falproxy/falproxy/internal/fal"
	"github.com/falproxy/falproxy/internal/store"
)

// chargeLate arranges for a fal job run under the returned context to be
// charged if it is found billed only after it was abandoned: the client
// left while falproxy waited for it, and fal had completed it before the
// cancel arrived. The request's own row, written when it ended, charged
// nothing for the job; a settlement row charges it as settled would have,
// had the job been seen to complete (an image job: the images it asked
// for), and counts it against the key's budget. A job of unknown cost (an
// unpriced model, a transcription of unknown length) adds no row.
func (s *Server) chargeLate(ctx context.Context, images int) context.Context {
	m, _ := ctx.Value(meteringKey{}).(*metering)
	if s.opt.Gate == nil || m == nil {
		return ctx
	}
	return fal.WithBilledLate(ctx, func(requestID string) {
		if !m.admitted {
			return
		}
		c := m.estimate
		if images > 0 && m.job.measures.Images > 0 {
			c = settled(m.job, m.estimate, m.price, m.priced, 0, falWork{jobs: 1, images: images})
		}
		if c.cost == nil { // nothing to charge: the request's row names the job
			return
		}
		row := settlementRow(ctx, m.sess, m.job.alias, m.job.endpoint, requestID, c)
		s.opt.Gate.Adjust(row)
		s.opt.Metrics.Cost(row.KeyName, row.Alias, store.MicrosToUSD(*c.cost))
	})
}
