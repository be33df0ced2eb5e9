package main

import (
	"fmt"
	"strings"
	"time"
)

// verdict says whether a measured figure met its target.
type verdict int

const (
	info verdict = iota // no target: context for the other rows
	met
	missed
)

func (v verdict) String() string {
	switch v {
	case met:
		return "yes"
	case missed:
		return "**no**"
	}
	return "–"
}

// check is met when ok, missed otherwise.
func check(ok bool) verdict {
	if ok {
		return met
	}
	return missed
}

// row is one line of a scenario's table.
type row struct {
	what, seed, target, measured string
	verdict                      verdict
}

// section is the outcome of one scenario: a table and notes on method.
type section struct {
	num   int
	title string
	rows  []row
	notes []string
}

// report is a whole run.
type report struct {
	header   runHeader
	sections []section
	failures []error
}

// runHeader says when, where and how a run was made.
type runHeader struct {
	date      time.Time
	goVersion string
	nproc     int
	cpu       string
	command   string
	quick     bool
	elapsed   time.Duration
}

// markdown renders the report as the falbench section of BENCHMARKS.md.
func (r *report) markdown() string {
	var b strings.Builder
	h := r.header
	mode := "full"
	if h.quick {
		mode = "quick (smoke run: few samples, figures are not meaningful)"
	}
	fmt.Fprintf(&b, "Run of %s: %s, `nproc` %d (%s), mode %s, %s in all.\n\n",
		h.date.UTC().Format("2006-01-02 15:04 MST"), h.goVersion, h.nproc, h.cpu, mode, h.elapsed.Round(time.Second))
	fmt.Fprintf(&b, "Command: `%s`\n", h.command)
	for _, s := range r.sections {
		fmt.Fprintf(&b, "\n### %d. %s\n\n", s.num, s.title)
		b.WriteString("| what | seed | target | measured | met? |\n| --- | --- | --- | --- | --- |\n")
		for _, rw := range s.rows {
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", cell(rw.what), cell(rw.seed), cell(rw.target), cell(rw.measured), rw.verdict)
		}
		if len(s.notes) > 0 {
			b.WriteString("\n")
			for _, n := range s.notes {
				fmt.Fprintf(&b, "- %s\n", n)
			}
		}
	}
	if len(r.failures) > 0 {
		b.WriteString("\n### Functional failures\n\n")
		for _, err := range r.failures {
			fmt.Fprintf(&b, "- %s\n", cell(err.Error()))
		}
	}
	return b.String()
}

// cell makes text safe inside a table cell.
func cell(s string) string {
	if s == "" {
		return "–"
	}
	s = strings.ReplaceAll(s, "|", `\|`)
	return strings.ReplaceAll(s, "\n", " ")
}

// ms formats a duration in milliseconds with a precision that suits it.
func ms(d time.Duration) string {
	v := float64(d) / float64(time.Millisecond)
	switch a := max(v, -v); {
	case a < 1:
		return fmt.Sprintf("%.3f ms", v)
	case a < 100:
		return fmt.Sprintf("%.2f ms", v)
	}
	return fmt.Sprintf("%.0f ms", v)
}

// medP99 formats a distribution as "median / p99".
func medP99(d dist) string {
	return ms(d.median) + " / " + ms(d.p99)
}

// mib formats a byte count in MiB.
func mib(n int64) string {
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}
