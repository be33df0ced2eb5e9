package server

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/falproxy/falproxy/internal/video"
)

// A list asks fal for the status of its unfinished videos, which may not
// have been polled since they were created: at most listRefreshers at
// once, each for at most listRefreshTimeout, so that a slow or failing
// fal delays a list by little.
const (
	listRefreshers     = 8
	listRefreshTimeout = 5 * time.Second
)

// refreshUnfinished asks fal where each queued or in-progress video of
// page stands and puts the answer in its row. A row fal does not answer
// for in time keeps the status last seen.
func (s *Server) refreshUnfinished(r *http.Request, page []video.Video) {
	ctx, cancel := s.jobContext(r)
	defer cancel()
	slots := make(chan struct{}, listRefreshers)
	var wg sync.WaitGroup
	for i := range page {
		if page[i].Status == video.Completed || page[i].Status == video.Failed {
			continue
		}
		wg.Go(func() {
			slots <- struct{}{}
			defer func() { <-slots }()
			ref, key, e := s.videos.open(page[i].ID, bearer(r))
			if e != nil {
				return
			}
			ctx, cancel := context.WithTimeout(ctx, listRefreshTimeout)
			defer cancel()
			// The page row was just read: it is the video's record.
			rec := videoRecord{last: page[i], indexed: true}
			if seen, e := s.videoStatus(ctx, page[i].ID, ref, key, rec, false); e == nil {
				page[i] = seen.video
			}
		})
	}
	wg.Wait()
}
