package main

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/falproxy/falproxy/internal/config"
	"github.com/falproxy/falproxy/internal/fleet"
	"github.com/falproxy/falproxy/internal/store"
)

// linkTimeout bounds each of check's attempts to reach the database and
// Redis, so that an address that swallows packets fails check soon.
const linkTimeout = 5 * time.Second

// checkLinks reaches the database serve would open (DATABASE_URL, or the
// default file when ADMIN_KEY is set) and the Redis of REDIS_URL, each
// without changing it: serve refuses to start without its database, and
// without Redis a fleet's replicas fall back to local limits (or, with
// REDIS_REQUIRED, refuse to start). It prints a line for each that answers
// and returns a problem line for each that does not. The lines name the
// host and database, never a user or password.
func checkLinks(ctx context.Context, cfg *config.Config, stdout io.Writer) (problems []string) {
	if u := cfg.StoreURL(); u != "" {
		if line, err := checkDatabase(ctx, u); err != nil {
			problems = append(problems, fmt.Sprintf("database %s: unreachable: %s", describeURL(u), oneLine(cfg, err, u)))
		} else {
			fmt.Fprintln(stdout, line)
		}
	}
	if u := cfg.RedisURL; u != "" {
		if line, err := checkRedis(ctx, u, cfg.RedisRequired); err != nil {
			problems = append(problems, fmt.Sprintf("redis %s: unreachable: %s", describeURL(u), oneLine(cfg, err, u)))
		} else {
			fmt.Fprintln(stdout, line)
		}
	}
	return problems
}

// checkDatabase reads the database's schema version without migrating.
func checkDatabase(ctx context.Context, u string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, linkTimeout)
	defer cancel()
	have, latest, err := store.Probe(ctx, u)
	switch {
	case err != nil:
		return "", err
	case have == 0:
		return fmt.Sprintf("database %s: reachable, empty or not created yet: serve creates its schema at start", describeURL(u)), nil
	case have < latest:
		return fmt.Sprintf("database %s: reachable, schema version %d of %d: serve migrates it at start", describeURL(u), have, latest), nil
	case have > latest:
		return fmt.Sprintf("database %s: reachable, schema version %d, newer than this falproxy's %d", describeURL(u), have, latest), nil
	}
	return fmt.Sprintf("database %s: reachable, schema version %d", describeURL(u), have), nil
}

// checkRedis pings the Redis of REDIS_URL as serve's fleet would reach
// it. A failure is a problem even without REDIS_REQUIRED: replicas would
// then each enforce only their share of every limit.
func checkRedis(ctx context.Context, u string, required bool) (string, error) {
	if err := fleet.Ping(ctx, u, linkTimeout); err != nil {
		if required {
			return "", fmt.Errorf("%w (REDIS_REQUIRED is true: serve will refuse to start)", err)
		}
		return "", fmt.Errorf("%w (serve would run each replica on its share of the limits)", err)
	}
	return fmt.Sprintf("redis %s: reachable", describeURL(u)), nil
}

// describeURL names a database or Redis URL without its user, password
// or parameters: the scheme, host and path (a SQLite file's path).
func describeURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Scheme + "://" + u.Host + u.Path
}

// oneLine is err's message on one line (the Postgres driver lists each
// address it tried on a line of its own), with the configuration's keys
// and the URL's password hidden in case a driver quotes them.
func oneLine(cfg *config.Config, err error, raw string) string {
	msg := strings.Join(strings.Fields(cfg.Redact(err.Error())), " ")
	if u, perr := url.Parse(raw); perr == nil && u.User != nil {
		if pw, ok := u.User.Password(); ok && pw != "" {
			msg = strings.ReplaceAll(msg, pw, "***")
		}
	}
	return msg
}
