package server

import "context"

// runFal runs one fal job on input and returns its output, logging the
// input in debug mode, recording fal's request id for the access log and
// the ledger, and, once the job completed, that fal bills it. measure
// reads the work of the job's result, which charges a job found billed
// only after it was abandoned (see chargeLate); nil: its estimate.
func (s *Server) runFal(ctx context.Context, endpoint string, input map[string]any, measure resultMeasure) ([]byte, error) {
	b, err := s.falInput(ctx, endpoint, input)
	if err != nil {
		return nil, err
	}
	return s.runEncoded(ctx, endpoint, b, measure)
}

// runEncoded is runFal for an input already encoded (and logged) by
// falInput.
func (s *Server) runEncoded(ctx context.Context, endpoint string, input []byte, measure resultMeasure) ([]byte, error) {
	body, _, err := s.runBilled(ctx, endpoint, input, measure)
	return body, err
}

// runBilled is runEncoded that also tells whether fal bills the job: it
// completed, even when its result could not be read afterwards.
func (s *Server) runBilled(ctx context.Context, endpoint string, input []byte, measure resultMeasure) (body []byte, billed bool, err error) {
	queuedJobs.started()
	defer queuedJobs.ended()
	res, err := s.opt.Fal.Run(s.chargeLate(ctx, measure), endpoint, input)
	ri := infoFrom(ctx)
	if res != nil {
		ri.set("", res.RequestID)
		if res.Billed {
			billed = true
			report(ctx, func(w *falWork) { w.jobs++ })
		}
	}
	if err != nil {
		return nil, billed, err
	}
	return res.Body, billed, nil
}

// falInput encodes the input of a fal job on endpoint, and logs it in
// debug mode, shortened and without credentials.
func (s *Server) falInput(ctx context.Context, endpoint string, input map[string]any) ([]byte, error) {
	b, err := encodeInput(input)
	if err != nil {
		return nil, err
	}
	s.logFalInput(ctx, endpoint, b)
	return b, nil
}

// logFalInput logs what is sent to fal on endpoint in debug mode,
// shortened and without credentials.
func (s *Server) logFalInput(ctx context.Context, endpoint string, body []byte) {
	if s.opt.Debug {
		s.log.Debug("fal input", "request_id", infoFrom(ctx).ID, "endpoint", endpoint, "input", s.loggable(body))
	}
}
