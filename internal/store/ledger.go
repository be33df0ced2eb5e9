package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Row is one request in the usage ledger.
type Row struct {
	Time          time.Time
	KeyID         string // "" for operator keys
	KeyName       string
	Alias         string
	Endpoint      string
	FalRequestIDs []string
	Units         float64
	Unit          string
	// CostMicros is the cost in micro-dollars; nil when the price is not
	// known.
	CostMicros *int64
	Status     int
	Latency    time.Duration
	RequestID  string
	// UID identifies the row for good: a row written twice is stored
	// once.
	UID string
}

const ledgerColumns = 13

// SettlementPrefix starts the UID of a settlement row: one that corrects
// the estimate a request recorded once fal's outcome is known (a video
// that failed or was cancelled), named after fal's request id.
const SettlementPrefix = "settle:"

// InsertRows writes rows in one transaction, many rows per statement. A
// row whose UID the ledger already holds is skipped, so that a batch may
// be written again when it is not known whether its commit went through
// and a settlement written twice counts once. inserted tells, row by row,
// which rows were written, so that spend is counted for those only.
func (s *Store) InsertRows(ctx context.Context, rows []Row) (inserted []bool, err error) {
	if len(rows) == 0 {
		return nil, nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("writing the ledger: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	// 13 values a row; 80 rows stay well under either database's limit
	// on bound values.
	const perStatement = 80
	written := make(map[string]bool) // UIDs this call inserted
	for start := 0; start < len(rows); start += perStatement {
		chunk := rows[start:min(start+perStatement, len(rows))]
		values := make([]string, len(chunk))
		args := make([]any, 0, len(chunk)*ledgerColumns)
		for i, r := range chunk {
			values[i] = "(" + placeholders(ledgerColumns) + ")"
			args = append(args, r.Time.UnixMilli(), r.KeyID, r.KeyName, r.Alias, r.Endpoint, strings.Join(r.FalRequestIDs, ","),
				r.Units, r.Unit, r.CostMicros, r.Status, float64(r.Latency.Microseconds())/1000, r.RequestID, nullIfEmpty(r.UID))
		}
		q := `INSERT INTO usage_ledger (ts, key_id, key_name, alias, endpoint, fal_request_ids, units, unit, cost_micros, status, latency_ms, request_id, row_uid) VALUES ` +
			strings.Join(values, ", ") + ` ON CONFLICT (row_uid) DO NOTHING RETURNING row_uid`
		if err := collectUIDs(ctx, tx, s.dialect.rebind(q), args, written); err != nil {
			return nil, fmt.Errorf("writing the ledger: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("writing the ledger: %w", err)
	}
	return insertedRows(rows, written), nil
}

// collectUIDs runs an INSERT ... RETURNING row_uid and adds the UIDs it
// wrote to written.
func collectUIDs(ctx context.Context, tx *sql.Tx, q string, args []any, written map[string]bool) error {
	rs, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rs.Close()
	for rs.Next() {
		var uid sql.NullString
		if err := rs.Scan(&uid); err != nil {
			return err
		}
		written[uid.String] = true
	}
	return rs.Err()
}

// insertedRows marks the rows written: every row without a UID, and the
// first row of each UID written; a later row of the same UID was skipped.
func insertedRows(rows []Row, written map[string]bool) []bool {
	inserted := make([]bool, len(rows))
	for i, r := range rows {
		if r.UID == "" {
			inserted[i] = true
			continue
		}
		inserted[i] = written[r.UID]
		delete(written, r.UID)
	}
	return inserted
}

// SpentSinceEach sums every key's spend since each of starts in one
// query, for listing many keys: by key id, the sums in the order of
// starts. Keys without spend are missing.
func (s *Store) SpentSinceEach(ctx context.Context, starts []time.Time) (map[string][]int64, error) {
	if len(starts) == 0 {
		return map[string][]int64{}, nil
	}
	sums := make([]string, len(starts))
	args := make([]any, 0, len(starts)+1)
	earliest := starts[0].UnixMilli()
	for i, t := range starts {
		sums[i] = `CAST(COALESCE(SUM(CASE WHEN ts >= ? THEN cost_micros END), 0) AS BIGINT)`
		args = append(args, t.UnixMilli())
		earliest = min(earliest, t.UnixMilli())
	}
	args = append(args, earliest)
	rows, err := s.query(ctx, `SELECT key_id, `+strings.Join(sums, ", ")+` FROM usage_ledger WHERE key_id <> '' AND ts >= ? GROUP BY key_id`, args...)
	if err != nil {
		return nil, fmt.Errorf("reading the spend: %w", err)
	}
	defer rows.Close()
	out := make(map[string][]int64)
	for rows.Next() {
		var id string
		v := make([]int64, len(starts))
		dst := []any{&id}
		for i := range v {
			dst = append(dst, &v[i])
		}
		if err := rows.Scan(dst...); err != nil {
			return nil, fmt.Errorf("reading the spend: %w", err)
		}
		out[id] = v
	}
	return out, rows.Err()
}

// nullIfEmpty is NULL for "": rows without a UID are never taken for
// each other.
func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// Spent is what a key has spent since a time, in micro-dollars.
func (s *Store) Spent(ctx context.Context, keyID string, since time.Time) (int64, error) {
	var v int64
	err := s.queryRow(ctx, `SELECT CAST(COALESCE(SUM(cost_micros), 0) AS BIGINT) FROM usage_ledger WHERE key_id = ? AND ts >= ?`,
		keyID, since.UnixMilli()).Scan(&v)
	if err != nil {
		return 0, fmt.Errorf("reading the spend: %w", err)
	}
	return v, nil
}

// UsageFilter selects ledger rows; zero fields select everything.
type UsageFilter struct {
	KeyID string
	Alias string
	From  time.Time
	To    time.Time // exclusive
	// GroupBy is "key", "model", "day" or "" (one total).
	GroupBy string
}

// UsageTotal sums a group of ledger rows.
type UsageTotal struct {
	// Group is the key id ("operator" for operator keys), the alias
	// (empty for rows that name no model) or the day (2026-03-01), and
	// is always present in JSON; Name is the key's name when grouped by
	// key.
	Group    string  `json:"group"`
	Name     string  `json:"name,omitempty"`
	Requests int64   `json:"requests"`
	Units    float64 `json:"units"`
	// CostUSD is the sum of known costs; UnpricedRequests counts rows
	// whose price was unknown.
	CostUSD          float64 `json:"cost_usd"`
	UnpricedRequests int64   `json:"unpriced_requests"`
}

// ErrInvalidGroupBy is Usage's answer to a GroupBy it does not know.
var ErrInvalidGroupBy = errors.New("group_by must be key, model or day")

// Usage sums the ledger rows the filter selects, by group.
func (s *Store) Usage(ctx context.Context, f UsageFilter) ([]UsageTotal, error) {
	var group string
	switch f.GroupBy {
	case "":
		group = `''`
	case "key":
		// By id: two keys may share a name.
		group = `CASE WHEN key_id = '' THEN 'operator' ELSE key_id END`
	case "model":
		group = `alias`
	case "day":
		// Milliseconds to whole UTC days since 1970; formatted below.
		group = `CAST(ts / 86400000 AS TEXT)`
	default:
		return nil, ErrInvalidGroupBy
	}
	var where []string
	var args []any
	if f.KeyID != "" {
		where, args = append(where, "key_id = ?"), append(args, f.KeyID)
	}
	if f.Alias != "" {
		where, args = append(where, "alias = ?"), append(args, f.Alias)
	}
	if !f.From.IsZero() {
		where, args = append(where, "ts >= ?"), append(args, f.From.UnixMilli())
	}
	if !f.To.IsZero() {
		where, args = append(where, "ts < ?"), append(args, f.To.UnixMilli())
	}
	// A settlement row offsets a request's row; it is no request itself.
	q := `SELECT ` + group + ` AS g, MAX(key_name), SUM(CASE WHEN row_uid LIKE '` + SettlementPrefix + `%' THEN 0 ELSE 1 END),
		COALESCE(SUM(units), 0), CAST(COALESCE(SUM(cost_micros), 0) AS BIGINT),
		SUM(CASE WHEN cost_micros IS NULL THEN 1 ELSE 0 END) FROM usage_ledger`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	q += ` GROUP BY g ORDER BY g`
	rows, err := s.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("reading usage: %w", err)
	}
	defer rows.Close()
	var out []UsageTotal
	for rows.Next() {
		var t UsageTotal
		var micros int64
		var unpriced sql.NullInt64
		var name string
		if err := rows.Scan(&t.Group, &name, &t.Requests, &t.Units, &micros, &unpriced); err != nil {
			return nil, fmt.Errorf("reading usage: %w", err)
		}
		t.CostUSD, t.UnpricedRequests = MicrosToUSD(micros), unpriced.Int64
		switch f.GroupBy {
		case "day":
			t.Group = dayOf(t.Group)
		case "key":
			t.Name = name
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

func dayOf(days string) string {
	var n int64
	_, _ = fmt.Sscan(days, &n)
	return time.Unix(n*86400, 0).UTC().Format(time.DateOnly)
}

// MicrosToUSD converts micro-dollars to dollars.
func MicrosToUSD(m int64) float64 { return float64(m) / 1e6 }

// USDToMicros converts dollars to micro-dollars, rounded.
func USDToMicros(usd float64) int64 {
	if usd < 0 {
		return -int64(-usd*1e6 + 0.5)
	}
	return int64(usd*1e6 + 0.5)
}

// ParseWhen reads a usage filter's bound: a date (2026-03-01, midnight
// UTC) or an RFC 3339 time.
func ParseWhen(v string) (time.Time, error) {
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		return t, nil
	}
	return time.Parse(time.RFC3339, v)
}
