package store

import (
	"errors"
	"testing"
	"time"
)

// A kept value is used while no grant write was committed here since it
// was read and for less than TTL; past Max entries the cache starts again.
func TestGrantCache(t *testing.T) {
	c := &GrantCache[string, int]{TTL: time.Second, Max: 2}
	at := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	c.Put("a", 1, 7, at)
	for _, tc := range []struct {
		name string
		gen  uint64
		now  time.Time
		ok   bool
	}{
		{"same generation, within the TTL", 7, at.Add(999 * time.Millisecond), true},
		{"a write committed here since", 8, at.Add(time.Millisecond), false},
		{"read a TTL ago (another replica may have written)", 7, at.Add(time.Second), false},
		{"the clock went back", 7, at.Add(-time.Millisecond), false},
	} {
		if v, ok := c.Get("a", tc.gen, tc.now); ok != tc.ok || (ok && v != 1) {
			t.Errorf("%s: got %d, %v", tc.name, v, ok)
		}
	}
	if _, ok := c.Get("b", 7, at); ok {
		t.Error("a key never put is found")
	}
	c.Put("b", 2, 7, at)
	c.Put("c", 3, 7, at) // past Max: starts again with c alone
	if _, ok := c.Get("a", 7, at); ok {
		t.Error("the cache grew past Max")
	}
	if v, ok := c.Get("c", 7, at); !ok || v != 3 {
		t.Errorf("c: %d %v", v, ok)
	}
}

// Load reads on a miss and keeps what it read, never a failed read.
func TestGrantCacheLoad(t *testing.T) {
	c := &GrantCache[string, int]{TTL: time.Second, Max: 10}
	at := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	reads := 0
	read := func(v int, err error) func() (int, error) {
		return func() (int, error) { reads++; return v, err }
	}
	if _, err := c.Load("k", 1, at, read(0, errors.New("down"))); err == nil {
		t.Fatal("the read's error was not returned")
	}
	if v, err := c.Load("k", 1, at, read(5, nil)); err != nil || v != 5 || reads != 2 {
		t.Fatalf("after a failed read: %d %v, %d reads", v, err, reads)
	}
	if v, err := c.Load("k", 1, at, read(6, nil)); err != nil || v != 5 || reads != 2 {
		t.Fatalf("kept value: %d %v, %d reads", v, err, reads)
	}
	if v, _ := c.Load("k", 2, at, read(7, nil)); v != 7 || reads != 3 {
		t.Fatalf("after a grant change: %d, %d reads", v, reads)
	}
}
