package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Budget periods; spend is counted from the start of the current UTC
// period.
const (
	PeriodDaily   = "daily"
	PeriodMonthly = "monthly"
	PeriodTotal   = "total"
)

// KeyPrefix starts every virtual key.
const KeyPrefix = "sk-fp-"

// Key is a virtual key's settings; the key itself is not among them.
type Key struct {
	ID     string `json:"id"`
	Prefix string `json:"prefix"` // the first characters, to recognise the key in a list
	Name   string `json:"name"`
	Owner  string `json:"owner"`
	// Models are the aliases the key may use; empty allows all.
	Models        []string `json:"models"`
	RPM           int      `json:"rpm"`            // requests per minute; 0: no limit
	MaxConcurrent int      `json:"max_concurrent"` // 0: no limit
	// BudgetMicros is the spend allowed per period in micro-dollars; nil:
	// no budget.
	BudgetMicros *int64 `json:"-"`
	BudgetPeriod string `json:"budget_period"`
	// HardStop refuses requests once the budget is spent; without it the
	// overspend is allowed and reported.
	HardStop  bool       `json:"hard_stop"`
	ExpiresAt *time.Time `json:"expires_at"`
	Enabled   bool       `json:"enabled"`
	CreatedAt time.Time  `json:"created_at"`
	UpdatedAt time.Time  `json:"updated_at"`
}

// PeriodStart is the start of the budget period that holds now.
func (k *Key) PeriodStart(now time.Time) time.Time {
	now = now.UTC()
	switch k.BudgetPeriod {
	case PeriodDaily:
		return time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	case PeriodMonthly:
		return time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	}
	return time.Unix(0, 0).UTC()
}

// ValidPeriod reports whether p is a budget period.
func ValidPeriod(p string) bool {
	return p == PeriodDaily || p == PeriodMonthly || p == PeriodTotal
}

// HashKey is what the store keeps of a key: its SHA-256 in hex.
func HashKey(secret string) string { return HashOf(sha256.Sum256([]byte(secret))) }

// HashOf is HashKey of a key whose SHA-256 is sum, for a caller that has
// hashed the key already.
func HashOf(sum [sha256.Size]byte) string { return hex.EncodeToString(sum[:]) }

// NewSecret makes a virtual key: the prefix and 32 random bytes.
func NewSecret() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return KeyPrefix + base64.RawURLEncoding.EncodeToString(b[:])
}

func newKeyID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return "key_" + hex.EncodeToString(b[:])
}

const keyColumns = `id, prefix, name, owner, models, rpm, max_concurrent, budget_micros, budget_period, hard_stop, expires_at, enabled, created_at, updated_at`

// CreateKey stores k under a new id and secret and returns both; the
// secret is not kept and cannot be shown again.
func (s *Store) CreateKey(ctx context.Context, k Key) (Key, string, error) {
	secret := NewSecret()
	now := time.Now().UTC().Truncate(time.Millisecond)
	k.ID, k.Prefix, k.CreatedAt, k.UpdatedAt = newKeyID(), secret[:len(KeyPrefix)+6], now, now
	if k.BudgetPeriod == "" {
		k.BudgetPeriod = PeriodTotal
	}
	_, err := s.exec(ctx, `INSERT INTO virtual_keys (hash, `+keyColumns+`) VALUES (`+placeholders(15)+`)`,
		append([]any{HashKey(secret)}, keyValues(k)...)...)
	if err != nil {
		return Key{}, "", fmt.Errorf("storing the key: %w", err)
	}
	return k, secret, nil
}

func keyValues(k Key) []any {
	return []any{k.ID, k.Prefix, k.Name, k.Owner, strings.Join(k.Models, ","), k.RPM, k.MaxConcurrent,
		k.BudgetMicros, k.BudgetPeriod, boolInt(k.HardStop), millisOrNil(k.ExpiresAt), boolInt(k.Enabled),
		k.CreatedAt.UnixMilli(), k.UpdatedAt.UnixMilli()}
}

// ModifyKey changes the key with id through change and stores the result,
// all in one transaction that holds the key's row (SQLite's write lock,
// Postgres' row lock), so that two changes made at once both land. An
// error of change is returned as it is, and nothing is written.
func (s *Store) ModifyKey(ctx context.Context, id string, change func(*Key) error) (Key, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return Key{}, fmt.Errorf("updating the key: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	lock := ""
	if s.dialect.numbered {
		lock = " FOR UPDATE"
	}
	k, err := scanKey(tx.QueryRowContext(ctx, s.dialect.rebind(`SELECT `+keyColumns+` FROM virtual_keys WHERE id = ?`+lock), id))
	if err != nil {
		return Key{}, err
	}
	if err := change(&k); err != nil {
		return Key{}, err
	}
	// Every change gets its own updated_at, later than the last one's,
	// since processes that cached the key tell a change by it (KeyVersion).
	now := time.Now().UTC().Truncate(time.Millisecond)
	if !now.After(k.UpdatedAt) {
		now = k.UpdatedAt.Add(time.Millisecond)
	}
	k.UpdatedAt = now
	if _, err := tx.ExecContext(ctx, s.dialect.rebind(`UPDATE virtual_keys SET name = ?, owner = ?, models = ?, rpm = ?, max_concurrent = ?,
		budget_micros = ?, budget_period = ?, hard_stop = ?, expires_at = ?, enabled = ?, updated_at = ? WHERE id = ?`),
		k.Name, k.Owner, strings.Join(k.Models, ","), k.RPM, k.MaxConcurrent, k.BudgetMicros, k.BudgetPeriod,
		boolInt(k.HardStop), millisOrNil(k.ExpiresAt), boolInt(k.Enabled), k.UpdatedAt.UnixMilli(), k.ID); err != nil {
		return Key{}, fmt.Errorf("updating the key: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return Key{}, fmt.Errorf("updating the key: %w", err)
	}
	return k, nil
}

// DeleteKey removes a key for good; its ledger rows stay.
func (s *Store) DeleteKey(ctx context.Context, id string) error {
	res, err := s.exec(ctx, `DELETE FROM virtual_keys WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("deleting the key: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// KeyVersion is when the key with that id last changed, or ErrNotFound:
// one indexed read, to tell whether a cached copy of the key is current.
func (s *Store) KeyVersion(ctx context.Context, id string) (time.Time, error) {
	var millis int64
	err := s.queryRow(ctx, `SELECT updated_at FROM virtual_keys WHERE id = ?`, id).Scan(&millis)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, ErrNotFound
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("reading a key: %w", err)
	}
	return time.UnixMilli(millis).UTC(), nil
}

// KeyByID returns the key with that id, or ErrNotFound.
func (s *Store) KeyByID(ctx context.Context, id string) (Key, error) {
	return scanKey(s.queryRow(ctx, `SELECT `+keyColumns+` FROM virtual_keys WHERE id = ?`, id))
}

// KeyByHash returns the key whose HashKey is hash, or ErrNotFound.
func (s *Store) KeyByHash(ctx context.Context, hash string) (Key, error) {
	return scanKey(s.queryRow(ctx, `SELECT `+keyColumns+` FROM virtual_keys WHERE hash = ?`, hash))
}

// Keys lists every key, oldest first.
func (s *Store) Keys(ctx context.Context) ([]Key, error) {
	rows, err := s.query(ctx, `SELECT `+keyColumns+` FROM virtual_keys ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("listing keys: %w", err)
	}
	defer rows.Close()
	var out []Key
	for rows.Next() {
		k, err := scanKey(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

type scanner interface{ Scan(dest ...any) error }

func scanKey(row scanner) (Key, error) {
	var (
		k                          Key
		models                     string
		budget, expires            sql.NullInt64
		hardStop, enabled          int
		createdMillis, updatedMill int64
	)
	err := row.Scan(&k.ID, &k.Prefix, &k.Name, &k.Owner, &models, &k.RPM, &k.MaxConcurrent, &budget, &k.BudgetPeriod,
		&hardStop, &expires, &enabled, &createdMillis, &updatedMill)
	if errors.Is(err, sql.ErrNoRows) {
		return Key{}, ErrNotFound
	}
	if err != nil {
		return Key{}, fmt.Errorf("reading a key: %w", err)
	}
	if models != "" {
		k.Models = strings.Split(models, ",")
	}
	if budget.Valid {
		k.BudgetMicros = &budget.Int64
	}
	if expires.Valid {
		t := time.UnixMilli(expires.Int64).UTC()
		k.ExpiresAt = &t
	}
	k.HardStop, k.Enabled = hardStop != 0, enabled != 0
	k.CreatedAt, k.UpdatedAt = time.UnixMilli(createdMillis).UTC(), time.UnixMilli(updatedMill).UTC()
	return k, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func millisOrNil(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UnixMilli()
}
