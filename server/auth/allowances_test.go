package auth_test

import (
	"testing"
	"time"

	"github.com/marketgate/marketgate/server/auth"
)

// TestAllowances: n requests at once per client and kind, then one every
// per/n, with the wait to say in Retry-After; other clients, other kinds
// and other addresses in one IPv6 /64 behave as they should.
func TestAllowances(t *testing.T) {
	now := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	a := auth.NewAllowances(func() time.Time { return now })
	for i := 0; i < 30; i++ {
		if ok, _ := a.Allow("landing", "198.51.100.7", 30, 10*time.Minute); !ok {
			t.Fatalf("request %d refused within the allowance", i+1)
		}
	}
	ok, wait := a.Allow("landing", "198.51.100.7", 30, 10*time.Minute)
	if ok || wait <= 0 || wait > 20*time.Second {
		t.Fatalf("31st: ok=%v wait=%v, want refused with a wait of at most 20s (10 min / 30)", ok, wait)
	}
	if ok, _ := a.Allow("landing", "198.51.100.8", 30, 10*time.Minute); !ok {
		t.Fatal("another client refused")
	}
	if ok, _ := a.Allow("register", "198.51.100.7", 20, 10*time.Minute); !ok {
		t.Fatal("another kind refused")
	}
	// A refused request takes nothing: after the wait exactly one more goes.
	now = now.Add(wait)
	if ok, _ := a.Allow("landing", "198.51.100.7", 30, 10*time.Minute); !ok {
		t.Fatal("refused after the wait it was told")
	}
	if ok, _ := a.Allow("landing", "198.51.100.7", 30, 10*time.Minute); ok {
		t.Fatal("two requests after one interval")
	}
	// IPv6: one /64 is one client.
	for i := 0; i < 3; i++ {
		a.Allow("sso", "2001:db8:1:2::"+string(rune('a'+i)), 3, time.Minute)
	}
	if ok, _ := a.Allow("sso", "2001:db8:1:2::ffff", 3, time.Minute); ok {
		t.Fatal("another address of the same /64 had its own allowance")
	}
}
