package teams

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/falproxy/falproxy/internal/store"
)

// KeySpec is a key's settings as the admin API and the CLI take them;
// fields left nil keep their value (or their default on create).
type KeySpec struct {
	Name          *string   `json:"name"`
	Owner         *string   `json:"owner"`
	Models        *[]string `json:"models"`
	RPM           *int      `json:"rpm"`
	MaxConcurrent *int      `json:"max_concurrent"`
	// BudgetUSD: a negative value removes the budget.
	BudgetUSD    *float64 `json:"budget_usd"`
	BudgetPeriod *string  `json:"budget_period"`
	HardStop     *bool    `json:"hard_stop"`
	// ExpiresAt is RFC 3339; "" removes the expiry.
	ExpiresAt *string `json:"expires_at"`
	Enabled   *bool   `json:"enabled"`
}

// NewKey is a key with the defaults of a fresh one: enabled, a hard stop,
// a total budget period.
func NewKey() store.Key {
	return store.Key{Enabled: true, HardStop: true, BudgetPeriod: store.PeriodTotal}
}

// Apply writes the spec's fields into k, or explains the first bad one.
func (s KeySpec) Apply(k *store.Key) error {
	if s.Name != nil {
		k.Name = strings.TrimSpace(*s.Name)
	}
	if k.Name == "" {
		return fmt.Errorf("name is required")
	}
	if s.Owner != nil {
		k.Owner = *s.Owner
	}
	if s.Models != nil {
		k.Models = nil
		for _, m := range *s.Models {
			if m = strings.TrimSpace(m); m != "" {
				if strings.Contains(m, ",") {
					return fmt.Errorf("a model alias in models contains a comma")
				}
				k.Models = append(k.Models, m)
			}
		}
	}
	for _, f := range []struct {
		name string
		v    *int
		dst  *int
	}{{"rpm", s.RPM, &k.RPM}, {"max_concurrent", s.MaxConcurrent, &k.MaxConcurrent}} {
		if f.v != nil {
			if *f.v < 0 {
				return fmt.Errorf("%s must be 0 (no limit) or more", f.name)
			}
			*f.dst = *f.v
		}
	}
	if s.BudgetUSD != nil {
		k.BudgetMicros = nil
		if *s.BudgetUSD >= 0 {
			m := store.USDToMicros(*s.BudgetUSD)
			k.BudgetMicros = &m
		}
	}
	if s.BudgetPeriod != nil {
		if !store.ValidPeriod(*s.BudgetPeriod) {
			return fmt.Errorf("budget_period must be daily, monthly or total")
		}
		k.BudgetPeriod = *s.BudgetPeriod
	}
	if s.HardStop != nil {
		k.HardStop = *s.HardStop
	}
	if s.ExpiresAt != nil {
		k.ExpiresAt = nil
		if *s.ExpiresAt != "" {
			t, err := time.Parse(time.RFC3339, *s.ExpiresAt)
			if err != nil {
				return fmt.Errorf("expires_at must be a time like 2026-12-31T23:59:59Z")
			}
			t = t.UTC()
			k.ExpiresAt = &t
		}
	}
	if s.Enabled != nil {
		k.Enabled = *s.Enabled
	}
	return nil
}

// KeyView is a key as the admin API and the CLI show it: its settings,
// its budget in dollars and what it spent in the current period.
type KeyView struct {
	store.Key
	BudgetUSD  *float64 `json:"budget_usd"`
	SpentUSD   float64  `json:"spent_usd"`
	OverBudget bool     `json:"over_budget"`
}

// View reads a key's spend in its current period.
func View(ctx context.Context, st *store.Store, k store.Key, now time.Time) (KeyView, error) {
	spent, err := st.Spent(ctx, k.ID, k.PeriodStart(now))
	if err != nil {
		return KeyView{}, err
	}
	v := KeyView{Key: k, SpentUSD: store.MicrosToUSD(spent)}
	if k.BudgetMicros != nil {
		b := store.MicrosToUSD(*k.BudgetMicros)
		v.BudgetUSD, v.OverBudget = &b, spent > *k.BudgetMicros
	}
	if v.Models == nil {
		v.Models = []string{}
	}
	return v, nil
}
