package server

import (
	"context"
	"strconv"
	"time"

	"github.com/falproxy/falproxy/internal/fal"
	"github.com/falproxy/falproxy/internal/pricing"
	"github.com/falproxy/falproxy/internal/store"
	"github.com/falproxy/falproxy/internal/teams"
	"github.com/falproxy/falproxy/internal/video"
)

// A video's submit records its estimate, since fal's outcome comes much
// later: the seconds fal will make at the endpoint that runs it, which a
// completed video costs. A video fal did not make (it failed, or was
// cancelled before it completed) costs nothing: refundVideo offsets the
// estimate when that is first seen.

// refundVideo writes the settlement of a video fal did not make for the
// key sess (nil: an operator key): a row offsetting its submit's estimate.
// Its UID derives from fal's request id, so that repeated polls and other
// replicas add it once.
func (s *Server) refundVideo(ctx context.Context, sess *teams.Session, ref *video.Ref) {
	if s.opt.Gate == nil {
		return
	}
	secs, err := strconv.ParseFloat(ref.Seconds, 64)
	if err != nil {
		return
	}
	price, priced := s.opt.Prices.Price(ctx, ref.Endpoint)
	c := chargeFor(price, priced, pricing.Measures{Seconds: secs})
	if c.cost == nil {
		return // the submit recorded no cost
	}
	refund := -*c.cost
	row := store.Row{Time: time.Now(), KeyName: "operator", Alias: ref.Model, Endpoint: ref.Endpoint,
		FalRequestIDs: []string{ref.RequestID}, Units: -c.units, Unit: c.unit, CostMicros: &refund,
		RequestID: infoFrom(ctx).ID, UID: store.SettlementPrefix + ref.RequestID}
	if sess != nil {
		row.KeyID, row.KeyName = sess.Key.ID, sess.Key.Name
	}
	s.opt.Gate.Adjust(row)
}

// refundIfStopped refunds a video whose cancel fal confirmed before it
// completed; it is the job's OnCancelSettled.
func (s *Server) refundIfStopped(ctx context.Context, ref *video.Ref) func(outcome string) {
	sess := sessionFrom(ctx)
	ctx = context.WithoutCancel(ctx)
	return func(outcome string) {
		if outcome == fal.CancelConfirmed {
			s.refundVideo(ctx, sess, ref)
		}
	}
}
