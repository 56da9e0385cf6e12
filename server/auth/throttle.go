package auth

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/netip"
	"sync"
	"time"

	"github.com/hashicorp/golang-lru/v2/expirable"
	"golang.org/x/time/rate"

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

// Allowances are per-client allowances of public endpoints: a token
// bucket (golang.org/x/time/rate) per kind and client, n requests at once
// and then one every per/n. The buckets live in this process, in an
// expiring LRU (hashicorp/golang-lru) bounded in size and forgotten once
// idle for a period (a bucket full again), so a flood is refused without a
// database write per request; each replica keeps its own.
type Allowances struct {
	Now func() time.Time
	// Size bounds the clients remembered per kind (default 65,536; the
	// least recently seen are forgotten first).
	Size int

	mu    sync.Mutex
	kinds map[string]*expirable.LRU[string, *rate.Limiter]
}

// NewAllowances reads the time from now (nil: time.Now).
func NewAllowances(now func() time.Time) *Allowances {
	if now == nil {
		now = time.Now
	}
	return &Allowances{Now: now}
}

// Allow takes one request of kind from client out of n per period and
// reports whether it may go on; if not, how long until it may.
func (a *Allowances) Allow(kind, client string, n int, per time.Duration) (bool, time.Duration) {
	lim := a.bucket(kind, ClientKey(client), n, per)
	r := lim.ReserveN(a.Now(), 1)
	if d := r.DelayFrom(a.Now()); d > 0 || !r.OK() {
		r.CancelAt(a.Now())
		return false, d
	}
	return true, 0
}

func (a *Allowances) bucket(kind, client string, n int, per time.Duration) *rate.Limiter {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.kinds == nil {
		a.kinds = map[string]*expirable.LRU[string, *rate.Limiter]{}
	}
	buckets := a.kinds[kind]
	if buckets == nil {
		buckets = expirable.NewLRU[string, *rate.Limiter](cmp.Or(a.Size, 1<<16), nil, per)
		a.kinds[kind] = buckets
	}
	lim, ok := buckets.Get(client)
	if !ok {
		lim = rate.NewLimiter(rate.Every(per/time.Duration(n)), n)
		buckets.Add(client, lim)
	}
	return lim
}
