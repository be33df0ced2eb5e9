package main

import (
	"math"
	"slices"
	"time"
)

// quantile is the nearest-rank q-quantile of ds (0 < q <= 1): the smallest
// sample with at least q of the samples at or below it. With fewer than
// 100 samples, p99 is therefore the largest one.
func quantile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	rank := int(math.Ceil(q*float64(len(s)))) - 1
	return s[min(max(rank, 0), len(s)-1)]
}

// dist is the median and p99 of a set of durations.
type dist struct {
	n           int
	median, p99 time.Duration
}

func summarize(ds []time.Duration) dist {
	return dist{n: len(ds), median: quantile(ds, 0.5), p99: quantile(ds, 0.99)}
}

// differences are the per-pair differences a[i] - b[i].
func differences(a, b []time.Duration) []time.Duration {
	out := make([]time.Duration, min(len(a), len(b)))
	for i := range out {
		out[i] = a[i] - b[i]
	}
	return out
}

// ratio is a/b, or 0 when b is zero.
func ratio(a, b time.Duration) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// column picks the k-th observation of every sample.
func column(samples []obs, k int) []time.Duration {
	out := make([]time.Duration, len(samples))
	for i, s := range samples {
		out[i] = s[k]
	}
	return out
}

// maxInt is the largest of xs (0 for none).
func maxInt(xs []int64) int64 {
	var m int64
	for _, x := range xs {
		m = max(m, x)
	}
	return m
}

// mean is the average of xs (0 for none).
func mean(xs []int64) float64 {
	if len(xs) == 0 {
		return 0
	}
	var s int64
	for _, x := range xs {
		s += x
	}
	return float64(s) / float64(len(xs))
}
