package server

import (
	"context"
	"time"

	"github.com/falproxy/falproxy/internal/fal"
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
// key sess (nil: an operator key): a row offsetting exactly the charge its
// submit recorded, sealed in its id, whatever the price is now. A submit
// that recorded no cost is not refunded. The row's UID derives from fal's
// request id, so that repeated polls and other replicas add it once.
func (s *Server) refundVideo(ctx context.Context, sess *teams.Session, ref *video.Ref) {
	if s.opt.Gate == nil || ref.Charged == nil {
		return
	}
	refund := -ref.Charged.CostMicros
	s.opt.Gate.Adjust(settlementRow(ctx, sess, ref.Model, ref.Endpoint, ref.RequestID,
		charge{units: -ref.Charged.Units, unit: ref.Charged.Unit, cost: &refund}))
}

// settlementRow is the ledger row that corrects, by c, what the request
// of ctx recorded for fal's job requestID. Its UID derives from fal's
// request id, so that the ledger holds it once however often, and by
// however many replicas, it is written.
func settlementRow(ctx context.Context, sess *teams.Session, alias, endpoint, requestID string, c charge) store.Row {
	row := store.Row{Time: time.Now(), KeyName: "operator", Alias: alias, Endpoint: endpoint,
		FalRequestIDs: []string{requestID}, Units: c.units, Unit: c.unit, CostMicros: c.cost,
		RequestID: infoFrom(ctx).ID, UID: store.SettlementPrefix + requestID}
	if sess != nil {
		row.KeyID, row.KeyName = sess.Key.ID, sess.Key.Name
	}
	return row
}

// submitCharge is what a request admitted by admitModel records unless
// it fails before fal takes its job: its estimate. nil when the estimate
// has no cost (the price is not known, no store).
func submitCharge(ctx context.Context) *video.Charge {
	m, _ := ctx.Value(meteringKey{}).(*metering)
	if m == nil || !m.admitted || m.estimate.cost == nil {
		return nil
	}
	return &video.Charge{Units: m.estimate.units, Unit: m.estimate.unit, CostMicros: *m.estimate.cost}
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
