package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"time"
)

// directClient is the ideal fal client falproxy is compared with: it does
// the least a client can do to get the same work done (submit, follow the
// status stream, fetch the result as soon as COMPLETED arrives; or one
// streaming or chat call), over keep-alive connections. It counts its own
// requests so that the emulator's counters can be split between it and the
// proxy.
type directClient struct {
	queueURL, runURL string
	key              string
	hc               *http.Client
	calls            atomic.Int64
}

func (d *directClient) do(req *http.Request) (*http.Response, error) {
	req.Header.Set("Authorization", "Key "+d.key)
	d.calls.Add(1)
	return d.hc.Do(req)
}

// falResult is the end of a queue job as the direct client saw it.
type falResult struct {
	status int
	body   []byte
}

// generate runs input on endpoint through the queue.
func (d *directClient) generate(ctx context.Context, endpoint string, input []byte) (falResult, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.queueURL+"/"+endpoint, bytes.NewReader(input))
	if err != nil {
		return falResult{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := d.do(req)
	if err != nil {
		return falResult{}, fmt.Errorf("submit: %w", err)
	}
	var job struct {
		StatusURL   string `json:"status_url"`
		ResponseURL string `json:"response_url"`
	}
	err = json.NewDecoder(resp.Body).Decode(&job)
	drain(resp)
	if err != nil || resp.StatusCode != http.StatusOK || job.StatusURL == "" {
		return falResult{}, fmt.Errorf("submit answered %d (%v)", resp.StatusCode, err)
	}
	if err := d.waitCompleted(ctx, job.StatusURL+"/stream?logs=0"); err != nil {
		return falResult{}, err
	}
	req, err = http.NewRequestWithContext(ctx, http.MethodGet, job.ResponseURL, nil)
	if err != nil {
		return falResult{}, err
	}
	resp, err = d.do(req)
	if err != nil {
		return falResult{}, fmt.Errorf("result: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return falResult{}, fmt.Errorf("result: %w", err)
	}
	return falResult{status: resp.StatusCode, body: body}, nil
}

// waitCompleted follows a status stream until COMPLETED. The rest of the
// stream is drained in the background, so the connection is reused while
// the result is already being fetched.
func (d *directClient) waitCompleted(ctx context.Context, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "text/event-stream")
	resp, err := d.do(req)
	if err != nil {
		return fmt.Errorf("status stream: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		drain(resp)
		return fmt.Errorf("status stream answered %d", resp.StatusCode)
	}
	err = readEvents(resp.Body, func(data []byte) (bool, error) {
		var st struct {
			Status string `json:"status"`
		}
		if err := json.Unmarshal(data, &st); err != nil {
			return false, fmt.Errorf("status event: %w", err)
		}
		return st.Status == "COMPLETED", nil
	})
	go drain(resp)
	if err != nil {
		return fmt.Errorf("status stream: %w", err)
	}
	return nil
}

// streamTimes are the moments of an answer, from the request's start.
type streamTimes struct {
	first time.Duration // first text of the answer
	last  time.Duration // the answer is complete
}

// llmStream posts input to fal's LLM stream of endpoint and times the
// first output text and the final event (partial false).
func (d *directClient) llmStream(ctx context.Context, endpoint string, input []byte) (streamTimes, error) {
	start := time.Now()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.runURL+"/"+endpoint+"/stream", bytes.NewReader(input))
	if err != nil {
		return streamTimes{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	resp, err := d.do(req)
	if err != nil {
		return streamTimes{}, err
	}
	defer drain(resp)
	if resp.StatusCode != http.StatusOK {
		return streamTimes{}, fmt.Errorf("fal stream answered %d", resp.StatusCode)
	}
	var t streamTimes
	err = readEvents(resp.Body, func(data []byte) (bool, error) {
		var ev struct {
			Output  string  `json:"output"`
			Partial bool    `json:"partial"`
			Error   *string `json:"error"`
		}
		if err := json.Unmarshal(data, &ev); err != nil {
			return false, fmt.Errorf("fal event: %w", err)
		}
		if ev.Error != nil {
			return false, fmt.Errorf("fal stream failed: %s", *ev.Error)
		}
		if t.first == 0 && ev.Output != "" {
			t.first = time.Since(start)
		}
		if !ev.Partial {
			t.last = time.Since(start)
			return true, nil
		}
		return false, nil
	})
	if err == nil && t.first == 0 {
		err = errors.New("fal stream had no output")
	}
	return t, err
}

// chat posts an OpenAI chat request to fal's OpenAI-compatible endpoint.
func (d *directClient) chat(ctx context.Context, body []byte) (falResult, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.runURL+"/openrouter/router/openai/v1/chat/completions", bytes.NewReader(body))
	if err != nil {
		return falResult{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := d.do(req)
	if err != nil {
		return falResult{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return falResult{status: resp.StatusCode, body: b}, err
}
