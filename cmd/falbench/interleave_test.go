package main

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// recorder returns sides that log their name when called.
func recorder(log *[]string, names ...string) []side {
	out := make([]side, len(names))
	for i, n := range names {
		out[i] = func(context.Context) (obs, error) {
			*log = append(*log, n)
			return obs{time.Duration(len(*log))}, nil
		}
	}
	return out
}

func TestInterleaveOrder(t *testing.T) {
	tests := []struct {
		sides []string
		n     int
		want  string
	}{
		{[]string{"P", "D"}, 4, "PD DP PD DP"},
		{[]string{"P", "D", "R"}, 3, "PDR DRP RPD"},
		{[]string{"P"}, 2, "P P"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.sides, ""), func(t *testing.T) {
			var log []string
			out, err := interleave(context.Background(), tt.n, recorder(&log, tt.sides...)...)
			if err != nil {
				t.Fatal(err)
			}
			var rounds []string
			for i := 0; i < len(log); i += len(tt.sides) {
				rounds = append(rounds, strings.Join(log[i:i+len(tt.sides)], ""))
			}
			if got := strings.Join(rounds, " "); got != tt.want {
				t.Errorf("order %q, want %q", got, tt.want)
			}
			for s := range tt.sides {
				if len(out[s]) != tt.n {
					t.Errorf("side %d has %d observations, want %d", s, len(out[s]), tt.n)
				}
				// Each observation is the call's position in the log, so
				// it must name this side.
				for _, o := range out[s] {
					if log[o[0]-1] != tt.sides[s] {
						t.Errorf("side %d got the observation of call %d (%s)", s, o[0], log[o[0]-1])
					}
				}
			}
		})
	}
}

func TestInterleaveStopsOnError(t *testing.T) {
	boom := errors.New("boom")
	calls := 0
	ok := func(context.Context) (obs, error) { calls++; return obs{1}, nil }
	bad := func(context.Context) (obs, error) { calls++; return nil, boom }
	if _, err := interleave(context.Background(), 5, ok, bad); !errors.Is(err, boom) {
		t.Fatalf("error %v, want boom", err)
	}
	if calls != 2 {
		t.Errorf("%d calls after the failure, want 2", calls)
	}
}

func TestTimed(t *testing.T) {
	o, err := timed(func(context.Context) error { time.Sleep(time.Millisecond); return nil })(context.Background())
	if err != nil || len(o) != 1 || o[0] < time.Millisecond {
		t.Errorf("timed = %v, %v", o, err)
	}
	if _, err := timed(func(context.Context) error { return errors.New("x") })(context.Background()); err == nil {
		t.Error("timed hid the error")
	}
}
