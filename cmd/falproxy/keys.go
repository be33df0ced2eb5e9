package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/falproxy/falproxy/internal/config"
	"github.com/falproxy/falproxy/internal/store"
	"github.com/falproxy/falproxy/internal/teams"
)

const keysUsage = `usage:
  falproxy keys create --name NAME [settings]   make a key; it is shown this once
  falproxy keys list [--json]                   every key with its limits and spend
  falproxy keys show ID                         the key's view as JSON
  falproxy keys update ID [settings]            change only the settings given
  falproxy keys revoke ID                       delete the key; its usage stays

settings: --owner TEXT --models a,b (empty: all) --rpm N --max-concurrent N
          --budget USD (negative: none) --period daily|monthly|total
          --hard-stop=true|false --expires 2026-12-31T23:59:59Z ("": never)
          --enabled=true|false
The store is DATABASE_URL from .env or the environment, else falproxy.db here
when ADMIN_KEY is set: the database serve uses.
A change reaches running servers within seconds.
`

// openStore opens the store of DATABASE_URL, read as serve reads it.
func openStore(ctx context.Context, environ func(string) (string, bool)) (*store.Store, error) {
	getenv, err := configEnv(environ)
	if err != nil {
		return nil, err
	}
	url := config.StoreURLOf(strings.TrimSpace(getenv("DATABASE_URL")), strings.TrimSpace(getenv("ADMIN_KEY")))
	if url == "" {
		return nil, &exitCode{2, errors.New("falproxy: no database: set DATABASE_URL, or ADMIN_KEY to use " + config.DefaultDatabaseFile +
			" in this directory, as serve does")}
	}
	if !config.ValidDatabaseURL(url) {
		return nil, &exitCode{2, errors.New("falproxy: DATABASE_URL must start with sqlite://, postgres:// or postgresql://")}
	}
	st, err := store.Open(ctx, url)
	if err != nil {
		return nil, &exitCode{1, fmt.Errorf("falproxy: opening the database: %w", err)}
	}
	return st, nil
}

// keys runs `falproxy keys ...`.
func keys(ctx context.Context, args []string, environ func(string) (string, bool), stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, keysUsage)
		return &exitCode{2, errors.New("falproxy keys: name an action")}
	}
	action, args := args[0], args[1:]
	st, err := openStore(ctx, environ)
	if err != nil {
		return err
	}
	defer st.Close()
	now := time.Now()
	switch action {
	case "create":
		spec, rest, err := parseKeySpec(args, stderr)
		if err != nil || len(rest) != 0 {
			return usageError(err, rest)
		}
		k := teams.NewKey()
		if err := spec.Apply(&k); err != nil {
			return &exitCode{2, fmt.Errorf("falproxy keys create: %w", err)}
		}
		k, secret, err := st.CreateKey(ctx, k)
		if err != nil {
			return err
		}
		warnUnserved(environ, spec, stderr)
		fmt.Fprintf(stdout, "key (shown once, keep it now): %s\n", secret)
		return printKey(ctx, stdout, st, k, now)
	case "list":
		asJSON, err := parseJSONFlag("list", args, stderr)
		if err != nil {
			return err
		}
		all, err := st.Keys(ctx)
		if err != nil {
			return err
		}
		views, err := teams.Views(ctx, st, all, now)
		if err != nil {
			return err
		}
		if asJSON { // as GET /admin/keys answers
			return json.NewEncoder(stdout).Encode(map[string]any{"object": "list", "data": views})
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tOWNER\tPREFIX\tMODELS\tRPM\tCONCURRENT\tBUDGET\tSPENT\tENABLED\tEXPIRES")
		for _, v := range views {
			k := v.Key
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s…\t%s\t%d\t%d\t%s\t$%.4f\t%t\t%s\n", k.ID, k.Name, k.Owner, k.Prefix, orAll(k.Models),
				k.RPM, k.MaxConcurrent, budgetText(v), v.SpentUSD, k.Enabled, expiresText(k))
		}
		return tw.Flush()
	case "show", "update", "revoke":
		if len(args) == 0 {
			return &exitCode{2, fmt.Errorf("falproxy keys %s: name the key id", action)}
		}
		id := args[0]
		if action != "update" {
			// show prints JSON anyway; revoke takes no flags.
			if _, err := parseJSONFlag(action, args[1:], stderr); err != nil {
				return err
			}
		}
		if action == "revoke" {
			if err := st.DeleteKey(ctx, id); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "revoked %s\n", id)
			return nil
		}
		if action != "update" {
			k, err := st.KeyByID(ctx, id)
			if err != nil {
				return err
			}
			return printKey(ctx, stdout, st, k, now)
		}
		spec, rest, err := parseKeySpec(args[1:], stderr)
		if err != nil || len(rest) != 0 {
			return usageError(err, rest)
		}
		var invalid error
		k, err := st.ModifyKey(ctx, id, func(k *store.Key) error {
			invalid = spec.Apply(k)
			return invalid
		})
		if invalid != nil {
			return &exitCode{2, fmt.Errorf("falproxy keys update: %w", invalid)}
		}
		if err != nil {
			return err
		}
		warnUnserved(environ, spec, stderr)
		return printKey(ctx, stdout, st, k, now)
	}
	fmt.Fprint(stderr, keysUsage)
	return &exitCode{2, fmt.Errorf("falproxy keys: unknown action %q", action)}
}

// warnUnserved prints a warning for each model of spec the configuration
// here (.env and the environment, as serve reads them) does not serve.
// Without a configuration that loads, it cannot tell, and says nothing.
func warnUnserved(environ func(string) (string, bool), spec teams.KeySpec, stderr io.Writer) {
	cfg, err := loadConfig(environ, nil)
	if err != nil {
		return
	}
	for _, w := range teams.UnservedModels(spec, cfg.Serves) {
		fmt.Fprintln(stderr, "falproxy keys: warning:", w)
	}
}

// parseJSONFlag reads the flags of keys list, show and revoke: --json
// only, and no other arguments.
func parseJSONFlag(action string, args []string, stderr io.Writer) (bool, error) {
	fs := flag.NewFlagSet("keys "+action, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var asJSON *bool
	if action != "revoke" {
		asJSON = fs.Bool("json", false, "print the key view as the admin API answers it")
	}
	if err := fs.Parse(args); err != nil || fs.NArg() != 0 {
		return false, usageError(err, fs.Args())
	}
	return asJSON != nil && *asJSON, nil
}

func usageError(err error, rest []string) error {
	if err == nil {
		err = fmt.Errorf("unexpected arguments %q", rest)
	}
	return &exitCode{2, fmt.Errorf("falproxy keys: %w", err)}
}

// keyFlags are the settings flags, each with its field in the admin
// API's JSON, which the CLI decodes the same way.
var keyFlags = []struct{ flag, field, kind string }{
	{"name", "name", "text"}, {"owner", "owner", "text"}, {"models", "models", "list"},
	{"rpm", "rpm", "number"}, {"max-concurrent", "max_concurrent", "number"},
	{"budget", "budget_usd", "number"}, {"period", "budget_period", "text"},
	{"hard-stop", "hard_stop", "bool"}, {"expires", "expires_at", "text"}, {"enabled", "enabled", "bool"},
}

// parseKeySpec reads the settings flags; only those given are set.
func parseKeySpec(args []string, stderr io.Writer) (teams.KeySpec, []string, error) {
	fs := flag.NewFlagSet("keys", flag.ContinueOnError)
	fs.SetOutput(stderr)
	texts, bools := map[string]*string{}, map[string]*bool{}
	for _, f := range keyFlags {
		if f.kind == "bool" {
			bools[f.flag] = fs.Bool(f.flag, true, "")
		} else {
			texts[f.flag] = fs.String(f.flag, "", "")
		}
	}
	var spec teams.KeySpec
	if err := fs.Parse(args); err != nil {
		return spec, nil, err
	}
	given := map[string]any{}
	var bad error
	fs.Visit(func(fl *flag.Flag) {
		for _, f := range keyFlags {
			if f.flag != fl.Name {
				continue
			}
			switch f.kind {
			case "bool":
				given[f.field] = *bools[f.flag]
			case "list":
				given[f.field] = strings.Split(*texts[f.flag], ",")
			case "number":
				n, err := strconv.ParseFloat(*texts[f.flag], 64)
				if err != nil {
					bad = fmt.Errorf("--%s must be a number", f.flag)
				}
				given[f.field] = n
			default:
				given[f.field] = *texts[f.flag]
			}
		}
	})
	if bad != nil {
		return spec, nil, bad
	}
	b, _ := json.Marshal(given)
	if err := json.Unmarshal(b, &spec); err != nil {
		return spec, nil, errors.New("--rpm and --max-concurrent must be whole numbers")
	}
	return spec, fs.Args(), nil
}

func printKey(ctx context.Context, w io.Writer, st *store.Store, k store.Key, now time.Time) error {
	v, err := teams.View(ctx, st, k, now)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func orAll(models []string) string {
	if len(models) == 0 {
		return "all"
	}
	return strings.Join(models, ",")
}

func budgetText(v teams.KeyView) string {
	if v.BudgetUSD == nil {
		return "none"
	}
	stop := "hard"
	if !v.HardStop {
		stop = "soft"
	}
	return fmt.Sprintf("$%.2f/%s (%s)", *v.BudgetUSD, v.BudgetPeriod, stop)
}

func expiresText(k store.Key) string {
	if k.ExpiresAt == nil {
		return "never"
	}
	return k.ExpiresAt.Format(time.RFC3339)
}

// usageTotals runs `falproxy usage`: ledger totals, as GET /admin/usage.
func usageTotals(ctx context.Context, args []string, environ func(string) (string, bool), stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("usage", flag.ContinueOnError)
	fs.SetOutput(stderr)
	key := fs.String("key", "", "only this key id")
	model := fs.String("model", "", "only this model alias")
	from := fs.String("from", "", "from this date or time (UTC), inclusive")
	to := fs.String("to", "", "to this date or time (UTC), exclusive")
	group := fs.String("group-by", "", "key, model or day")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := fs.Parse(args); err != nil {
		return &exitCode{2, err}
	}
	f := store.UsageFilter{KeyID: *key, Alias: *model, GroupBy: *group}
	for _, t := range []struct {
		name, value string
		dst         *time.Time
	}{{"--from", *from, &f.From}, {"--to", *to, &f.To}} {
		if t.value == "" {
			continue
		}
		when, err := store.ParseWhen(t.value)
		if err != nil {
			return &exitCode{2, fmt.Errorf("falproxy usage: %s must be a date (2026-03-01) or a time (2026-03-01T12:00:00Z)", t.name)}
		}
		*t.dst = when
	}
	st, err := openStore(ctx, environ)
	if err != nil {
		return err
	}
	defer st.Close()
	totals, err := st.Usage(ctx, f)
	if err != nil {
		return &exitCode{2, fmt.Errorf("falproxy usage: %w", err)}
	}
	if *asJSON {
		if totals == nil {
			totals = []store.UsageTotal{}
		}
		return json.NewEncoder(stdout).Encode(totals)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "GROUP\tNAME\tREQUESTS\tUNITS\tCOST (USD)\tUNPRICED")
	for _, t := range totals {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%g\t%.6f\t%d\n", groupLabel(*group, t.Group), t.Name, t.Requests, t.Units, t.CostUSD, t.UnpricedRequests)
	}
	return tw.Flush()
}

// groupLabel names a usage group in the table: "total" when nothing is
// grouped, and a group without a value (rows that name no model) by what
// it lacks, so that it is never read as the grand total.
func groupLabel(groupBy, group string) string {
	switch {
	case group != "":
		return group
	case groupBy == "":
		return "total"
	}
	return "(no " + groupBy + ")"
}
