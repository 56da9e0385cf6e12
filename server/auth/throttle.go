package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/netip"
	"time"

	"github.com/marketgate/marketgate/store"
)

// Throttle slows attackers down without locking owners out. Its counters
// live in the database, so every replica sharing it counts together.
//
// Sign-in failures are counted per (account, client address) and per
// client address. Past a free allowance each further failure makes that
// key wait longer (1s, 2s, 4s … up to MaxDelay). The account itself is
// never locked: its owner, from another address, still signs in.
type Throttle struct {
	Store *store.Store
	Now   func() time.Time

	// Free failures per (account, client) and per client before delays start.
	AccountClientFree, ClientFree int
	// BaseDelay is the first delay, doubled per further failure up to MaxDelay.
	BaseDelay, MaxDelay time.Duration
	// Forget is how long a key's failures are remembered after its last one.
	Forget time.Duration
}

// NewThrottle has the sign-in defaults: 5 free failures per account and
// client, 20 per client, delays from 1 second doubling up to 15 minutes,
// forgotten after an hour without failures.
func NewThrottle(st *store.Store, now func() time.Time) *Throttle {
	if now == nil {
		now = time.Now
	}
	return &Throttle{Store: st, Now: now, AccountClientFree: 5, ClientFree: 20,
		BaseDelay: time.Second, MaxDelay: 15 * time.Minute, Forget: time.Hour}
}

// ClientKey is the unit a client is counted by: its address, or for IPv6
// its /64 (one subscriber's network).
func ClientKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	a = a.Unmap()
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}

func hashKey(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:20])
}

func (t *Throttle) loginKeys(account, client string) (pair, byClient string) {
	client = ClientKey(client)
	return "login:ac:" + hashKey(account, client), "login:c:" + hashKey(client)
}

// LoginWait says how long a sign-in for account from client must wait
// (0: go ahead).
func (t *Throttle) LoginWait(ctx context.Context, account, client string) (time.Duration, error) {
	pair, byClient := t.loginKeys(account, client)
	now := t.Now().UTC()
	until, err := t.Store.ThrottleBlockedUntil(ctx, []string{pair, byClient}, now)
	if err != nil || until.IsZero() {
		return 0, err
	}
	return until.Sub(now), nil
}

// LoginFailed counts a wrong password and sets the delay that follows.
func (t *Throttle) LoginFailed(ctx context.Context, account, client string) error {
	pair, byClient := t.loginKeys(account, client)
	now := t.Now().UTC()
	for _, k := range []struct {
		key  string
		free int
	}{{pair, t.AccountClientFree}, {byClient, t.ClientFree}} {
		n, err := t.Store.ThrottleHit(ctx, k.key, t.Forget, 24*time.Hour, now)
		if err != nil {
			return err
		}
		if n >= k.free {
			if err := t.Store.ThrottleBlock(ctx, k.key, now.Add(t.delay(n-k.free))); err != nil {
				return err
			}
		}
	}
	return nil
}

// LoginSucceeded forgets the (account, client) failures.
func (t *Throttle) LoginSucceeded(ctx context.Context, account, client string) error {
	pair, _ := t.loginKeys(account, client)
	return t.Store.ThrottleReset(ctx, pair)
}

func (t *Throttle) delay(over int) time.Duration {
	d := t.BaseDelay
	for i := 0; i < over && d < t.MaxDelay; i++ {
		d *= 2
	}
	return min(d, t.MaxDelay)
}

// Allow counts a request of a kind (e.g. "aws-register") from client and
// reports whether it is within limit per window, and if not how long until
// the window ends.
func (t *Throttle) Allow(ctx context.Context, kind, client string, limit int, window time.Duration) (bool, time.Duration, error) {
	now := t.Now().UTC()
	key := "rate:" + kind + ":" + hashKey(ClientKey(client))
	n, err := t.Store.ThrottleHit(ctx, key, window, window, now)
	if err != nil {
		return false, 0, err
	}
	if n <= limit {
		return true, 0, nil
	}
	row, err := t.Store.ThrottleRow(ctx, key)
	if err != nil {
		return false, window, nil
	}
	return false, row.FirstAt.Add(window).Sub(now), nil
}
