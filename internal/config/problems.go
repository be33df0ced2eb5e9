package config

import (
	"cmp"
	"slices"
	"strings"
)

// Problem is one missing or malformed variable.
type Problem struct {
	Variable string // e.g. "PORT"
	Message  string // what is wrong, e.g. `must be an integer between 1 and 65535, got "abc"`
}

// String renders the problem as one line, e.g.
// `config: PORT must be an integer between 1 and 65535, got "abc"`.
func (p Problem) String() string {
	return "config: " + p.Variable + " " + p.Message
}

// Error is what Load returns when the configuration is unusable: every
// problem found, sorted by variable name, so that an operator can fix them
// all in one go. Messages never contain the value of a secret variable.
type Error struct {
	Problems []Problem
}

// Error prints one problem per line.
func (e *Error) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// newError sorts problems by variable, keeping the order in which problems
// of one variable were found.
func newError(problems []Problem) *Error {
	sorted := slices.Clone(problems)
	slices.SortStableFunc(sorted, func(a, b Problem) int { return cmp.Compare(a.Variable, b.Variable) })
	return &Error{Problems: sorted}
}
