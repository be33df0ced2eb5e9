package main

import (
	"testing"
	"time"
)

func TestQuantile(t *testing.T) {
	ms := func(xs ...int) []time.Duration {
		out := make([]time.Duration, len(xs))
		for i, x := range xs {
			out[i] = time.Duration(x) * time.Millisecond
		}
		return out
	}
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = 100 - i // unsorted on purpose
	}
	tests := []struct {
		name string
		in   []time.Duration
		q    float64
		want time.Duration
	}{
		{"empty", nil, 0.5, 0},
		{"one", ms(7), 0.99, 7 * time.Millisecond},
		{"median odd", ms(5, 1, 3), 0.5, 3 * time.Millisecond},
		{"median even takes the lower", ms(4, 1, 3, 2), 0.5, 2 * time.Millisecond},
		{"p99 of 40 is the max", ms(append(make([]int, 39), 9)...), 0.99, 9 * time.Millisecond},
		{"p99 of 100", ms(hundred...), 0.99, 99 * time.Millisecond},
		{"p50 of 100", ms(hundred...), 0.5, 50 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := quantile(tt.in, tt.q); got != tt.want {
				t.Errorf("quantile(%v, %v) = %v, want %v", tt.in, tt.q, got, tt.want)
			}
		})
	}
}

func TestQuantileLeavesInputUnsorted(t *testing.T) {
	in := []time.Duration{3, 1, 2}
	quantile(in, 0.5)
	if in[0] != 3 || in[1] != 1 || in[2] != 2 {
		t.Errorf("input was reordered: %v", in)
	}
}

func TestDifferencesAndRatio(t *testing.T) {
	d := differences([]time.Duration{10, 20, 30}, []time.Duration{9, 25})
	if len(d) != 2 || d[0] != 1 || d[1] != -5 {
		t.Errorf("differences = %v, want [1 -5]", d)
	}
	if r := ratio(3, 2); r != 1.5 {
		t.Errorf("ratio(3, 2) = %v", r)
	}
	if r := ratio(3, 0); r != 0 {
		t.Errorf("ratio(3, 0) = %v, want 0", r)
	}
}
