package store

import (
	"sync"
	"time"
)

// GrantCache keeps values read from the tables grants are read from (see
// GrantGeneration) for the checks the seller's app makes thousands of
// times a second: the API key, the seat check's subscriptions, a
// Microsoft tenant's consent, usage ingestion's customer references. A
// value is used again while both
//   - this process has committed no write to those tables since it was
//     read: a change made here is seen by the very next request;
//   - it was read less than TTL ago: a change made by another replica
//     (sharing Postgres, or the same SQLite file) is seen within that bound.
//
// Past Max entries the cache starts again empty. The zero value is not
// ready: set TTL and Max.
type GrantCache[K comparable, V any] struct {
	TTL time.Duration
	Max int

	mu sync.RWMutex
	m  map[K]grantCached[V]
}

type grantCached[V any] struct {
	v   V
	gen uint64
	at  time.Time
}

// Get returns the value kept for k while it may be used.
func (c *GrantCache[K, V]) Get(k K, gen uint64, now time.Time) (V, bool) {
	c.mu.RLock()
	e, ok := c.m[k]
	c.mu.RUnlock()
	if !ok || e.gen != gen || now.Sub(e.at) >= c.TTL || now.Before(e.at) {
		var zero V
		return zero, false
	}
	return e.v, true
}

// Put keeps v for k, read at generation gen and time at (both taken
// before the read).
func (c *GrantCache[K, V]) Put(k K, v V, gen uint64, at time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= c.Max {
		c.m = map[K]grantCached[V]{}
	}
	c.m[k] = grantCached[V]{v: v, gen: gen, at: at}
}

// Load returns the value kept for k while it may be used, else the value
// read (kept when read without error). Read gen and now before reading.
func (c *GrantCache[K, V]) Load(k K, gen uint64, now time.Time, read func() (V, error)) (V, error) {
	if v, ok := c.Get(k, gen, now); ok {
		return v, nil
	}
	v, err := read()
	if err == nil {
		c.Put(k, v, gen, now)
	}
	return v, err
}
