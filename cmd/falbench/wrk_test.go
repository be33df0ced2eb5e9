package main

import "testing"

func TestParseWrk(t *testing.T) {
	out := []byte(`Running 5s test @ http://127.0.0.1:1234/v1/models
  2 threads and 50 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.20ms  500.00us  10.00ms   90.00%
  200000 requests in 5.00s, 100.00MB read
Requests/sec:  40012.34
Transfer/sec:     20.00MB
`)
	got, err := parseWrk(out)
	if err != nil || got != 40012.34 {
		t.Errorf("parseWrk = %v, %v; want 40012.34", got, err)
	}
	if _, err := parseWrk([]byte("unable to connect")); err == nil {
		t.Error("parseWrk accepted output without a rate")
	}
	failing := append(out, "  Non-2xx or 3xx responses: 12\n"...)
	if _, err := parseWrk(failing); err == nil {
		t.Error("parseWrk accepted a run with failed answers")
	}
}
