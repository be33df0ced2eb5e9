package falfake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestConcurrentJobs runs many jobs at once, each through submit, status
// stream and result, and checks that every job got its own answer and
// that the counters add up.
func TestConcurrentJobs(t *testing.T) {
	const jobs = 300
	f, c := start(t, Options{QueueDelay: 2 * time.Millisecond, GenerationTime: 5 * time.Millisecond})
	c.hc.Transport.(*http.Transport).MaxIdleConnsPerHost = 64
	var wg sync.WaitGroup
	errs := make(chan error, jobs)
	for i := range jobs {
		wg.Go(func() {
			prompt := fmt.Sprintf("job %d", i)
			r, err := c.try("POST", f.QueueURL()+"/fal-ai/flux/schnell", map[string]any{"prompt": prompt, "seed": i})
			if err != nil || r.status != 200 {
				errs <- fmt.Errorf("submit %d: %v %d", i, err, r.status)
				return
			}
			var sub submitted
			_ = json.Unmarshal(r.body, &sub)
			if r, err = c.try("GET", sub.StatusURL+"/stream", nil); err != nil || !strings.Contains(string(r.body), `"status":"COMPLETED"`) {
				errs <- fmt.Errorf("stream %d: %v %s", i, err, r.body)
				return
			}
			r, err = c.try("GET", sub.ResponseURL, nil)
			var out struct {
				Seed   int    `json:"seed"`
				Prompt string `json:"prompt"`
			}
			if err != nil || json.Unmarshal(r.body, &out) != nil || out.Seed != i || out.Prompt != prompt {
				errs <- fmt.Errorf("result %d: %v %s", i, err, r.body)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	got := f.Counts()
	if got.Submits != jobs || got.StatusStreams != jobs || got.Results != jobs || got.ByEndpoint["fal-ai/flux/schnell"] != 3*jobs {
		t.Errorf("counts %+v", got)
	}
	if n := len(f.Received()); n != 3*jobs {
		t.Errorf("%d calls received", n)
	}
	for _, j := range f.Jobs() {
		if j.State != StateCompleted || j.ResultStatus != 200 {
			t.Fatalf("job %+v", j)
		}
	}
}

func TestReceivedAndReset(t *testing.T) {
	f, c := start(t, Options{})
	sub := c.submit(f, "fal-ai/flux/dev", map[string]any{"prompt": "recorded"})
	c.do("GET", str(sub, "status_url")+"?logs=1", nil)
	f.Inject(Fault{Op: OpResult, Status: 500})

	calls := f.Received()
	if len(calls) != 2 {
		t.Fatalf("calls %+v", calls)
	}
	s, st := calls[0], calls[1]
	if s.Op != OpSubmit || s.Endpoint != "fal-ai/flux/dev" || s.Key != testKey || s.Method != "POST" ||
		s.Path != "/queue/fal-ai/flux/dev" || string(s.Body) != `{"prompt":"recorded"}` || s.Time.IsZero() {
		t.Errorf("submit call %+v", s)
	}
	if st.Op != OpStatus || st.Endpoint != "fal-ai/flux/dev" || st.Query != "logs=1" || st.Body != nil {
		t.Errorf("status call %+v", st)
	}
	jobs := f.Jobs()
	if len(jobs) != 1 || string(jobs[0].Input) != `{"prompt":"recorded"}` || jobs[0].Key != testKey || jobs[0].Endpoint != "fal-ai/flux/dev" {
		t.Errorf("jobs %+v", jobs)
	}

	f.Reset()
	if got := f.Counts(); got.Submits != 0 || got.Status != 0 || len(got.ByEndpoint) != 0 || len(f.Received()) != 0 || len(f.Jobs()) != 0 {
		t.Errorf("after Reset: %+v", got)
	}
	if r := c.do("GET", str(sub, "response_url"), nil); r.status != 404 {
		t.Errorf("reset job still readable: %d (fault cleared too?)", r.status)
	}
}
