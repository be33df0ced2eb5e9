package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// proxyClient is an OpenAI client of falproxy, as thin as the direct fal
// client: raw HTTP with the access key.
type proxyClient struct {
	base string // http://host:port
	key  string
	hc   *http.Client
}

// answer is a whole HTTP answer.
type answer struct {
	status int
	header http.Header
	body   []byte
}

func (p *proxyClient) send(ctx context.Context, method, path, body string) (answer, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, p.base+path, rd)
	if err != nil {
		return answer{}, err
	}
	req.Header.Set("Authorization", "Bearer "+p.key)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := p.hc.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return answer{status: resp.StatusCode, header: resp.Header, body: b}, err
}

// image posts an image generation and checks that it returned images as
// URLs.
func (p *proxyClient) image(ctx context.Context, body string) error {
	a, err := p.send(ctx, http.MethodPost, "/v1/images/generations", body)
	if err != nil {
		return err
	}
	return imageAnswer(a)
}

// imageAnswer checks an OpenAI images response with URLs.
func imageAnswer(a answer) error {
	if a.status != http.StatusOK {
		return fmt.Errorf("falproxy answered %d: %.300s", a.status, a.body)
	}
	var r struct {
		Data []struct {
			URL string `json:"url"`
		} `json:"data"`
	}
	if err := json.Unmarshal(a.body, &r); err != nil || len(r.Data) == 0 || r.Data[0].URL == "" {
		return fmt.Errorf("falproxy answered 200 without an image URL (%v): %.300s", err, a.body)
	}
	return nil
}

// apiError is the OpenAI error a failing request must answer.
type apiError struct {
	status      int
	param, code string
}

// expectError checks that an answer is the OpenAI error want describes
// (an empty param or code is not checked).
func expectError(a answer, want apiError) error {
	var env struct {
		Error *struct {
			Message string  `json:"message"`
			Param   *string `json:"param"`
			Code    *string `json:"code"`
		} `json:"error"`
	}
	if err := json.Unmarshal(a.body, &env); err != nil || env.Error == nil || env.Error.Message == "" {
		return fmt.Errorf("not an OpenAI error (status %d): %.300s", a.status, a.body)
	}
	got := apiError{status: a.status, param: deref(env.Error.Param), code: deref(env.Error.Code)}
	if got.status != want.status || want.param != "" && got.param != want.param || want.code != "" && got.code != want.code {
		return fmt.Errorf("falproxy answered %+v, want %+v: %.300s", got, want, a.body)
	}
	return nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// chatStream posts a streaming chat and times the first content delta and
// the final "data: [DONE]".
func (p *proxyClient) chatStream(ctx context.Context, body string) (streamTimes, error) {
	start := time.Now()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.base+"/v1/chat/completions", strings.NewReader(body))
	if err != nil {
		return streamTimes{}, err
	}
	req.Header.Set("Authorization", "Bearer "+p.key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := p.hc.Do(req)
	if err != nil {
		return streamTimes{}, err
	}
	defer drain(resp)
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		return streamTimes{}, fmt.Errorf("falproxy answered %d: %.300s", resp.StatusCode, b)
	}
	var t streamTimes
	err = readEvents(resp.Body, func(data []byte) (bool, error) {
		if string(data) == "[DONE]" {
			t.last = time.Since(start)
			return true, nil
		}
		var c struct {
			Error   json.RawMessage `json:"error"`
			Choices []struct {
				Delta struct {
					Content string `json:"content"`
				} `json:"delta"`
			} `json:"choices"`
		}
		if err := json.Unmarshal(data, &c); err != nil {
			return false, fmt.Errorf("chunk: %w", err)
		}
		if len(c.Error) > 0 {
			return false, fmt.Errorf("stream failed: %s", c.Error)
		}
		if t.first == 0 && len(c.Choices) > 0 && c.Choices[0].Delta.Content != "" {
			t.first = time.Since(start)
		}
		return false, nil
	})
	if err == nil && t.first == 0 {
		err = errors.New("stream had no content")
	}
	return t, err
}

// chatAnswer checks a non-streaming chat completion.
func chatAnswer(a answer) error {
	if a.status != http.StatusOK {
		return fmt.Errorf("answered %d: %.300s", a.status, a.body)
	}
	var r struct {
		Choices []struct {
			Message struct {
				Content string `json:"content"`
			} `json:"message"`
		} `json:"choices"`
	}
	if err := json.Unmarshal(a.body, &r); err != nil || len(r.Choices) == 0 || r.Choices[0].Message.Content == "" {
		return fmt.Errorf("chat completion without content (%v): %.300s", err, a.body)
	}
	return nil
}
