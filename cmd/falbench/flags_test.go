package main

import (
	"errors"
	"io"
	"testing"
)

func TestParseFlags(t *testing.T) {
	tests := []struct {
		args    []string
		wantErr bool
		check   func(*config) bool
	}{
		{nil, false, func(c *config) bool { return !c.quick && c.only == nil && c.command() == "go run ./cmd/falbench" }},
		{[]string{"-quick", "-out", "B.md"}, false, func(c *config) bool {
			return c.quick && c.out == "B.md" && c.command() == "go run ./cmd/falbench -quick -out B.md"
		}},
		{[]string{"-only", "1, 5"}, false, func(c *config) bool { return c.only[1] && c.only[5] && len(c.only) == 2 }},
		{[]string{"-only", "15"}, true, nil},
		{[]string{"-only", "x"}, true, nil},
		{[]string{"extra"}, true, nil},
		{[]string{"-nope"}, true, nil},
	}
	for _, tt := range tests {
		c, err := parseFlags(tt.args, io.Discard)
		if tt.wantErr {
			if !errors.Is(err, errUsage) {
				t.Errorf("parseFlags(%q) error %v, want a usage error", tt.args, err)
			}
			continue
		}
		if err != nil || !tt.check(c) {
			t.Errorf("parseFlags(%q) = %+v, %v", tt.args, c, err)
		}
	}
}
