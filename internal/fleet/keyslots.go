package fleet

// Each fal key's jobs across the fleet (KEY_CONCURRENCY) are leases (see
// leases.go) in a sorted set keyslots:<tag>.

// KeySlots counts fal key slots across the fleet; it is the pool's
// fal.KeySlots.
type KeySlots struct {
	f *Fleet
}

// NewKeySlots counts slots through f with its leases (Options.LeaseTTL),
// which it renews, with virtual keys' slots, until it closes.
func NewKeySlots(f *Fleet) *KeySlots {
	return &KeySlots{f: f}
}

// TryAcquire takes a lease on one of max slots of the key tagged tag in
// one round trip. err is set when Redis cannot be reached.
func (s *KeySlots) TryAcquire(tag string, max int) (release func(), ok bool, err error) {
	return s.f.leases.acquire(s.f.key("keyslots:"+tag), max)
}

// Hold records a job running on this replica's share of the key tagged
// tag: its lease is written when Redis answers again.
func (s *KeySlots) Hold(tag string) (release func()) {
	return s.f.leases.hold(s.f.key("keyslots:" + tag))
}

// Share is this replica's part of max while Redis cannot be reached.
func (s *KeySlots) Share(max int) int { return s.f.Share(max) }
