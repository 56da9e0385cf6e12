package api

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/marketgate/marketgate/store"
)

// The API key of the seller's app is looked up on every request; the
// usage API and the seat check take thousands a second. A key read is
// used again, by its hash, while this process has committed no write to
// the tables of grants and keys since (store.GrantGeneration: a key
// revoked here is refused by the very next request) and for at most
// APIKeyCacheTTL: a key revoked on another replica is refused here within
// that bound.

// APIKeyCacheTTL bounds how long a key revoked on another replica may still
// be accepted here.
const APIKeyCacheTTL = time.Second

type apiKeyEntry struct {
	key     store.APIKey
	gen     uint64
	at      time.Time
	touched atomic.Int64 // unix seconds of the last recorded use
}

type apiKeyCache struct {
	mu sync.RWMutex
	m  map[string]*apiKeyEntry
}

// lookup returns the key with this hash (a copy), from memory while it
// may be used, and records its use at most once a minute.
func (s *Server) lookupAPIKey(ctx context.Context, key string) (*store.APIKey, error) {
	hash := store.HashAPIKey(key)
	gen, now := s.Store.GrantGeneration(), s.Store.Now()
	c := &s.apiKeys
	c.mu.RLock()
	e := c.m[hash]
	c.mu.RUnlock()
	if e == nil || e.gen != gen || now.Sub(e.at) >= APIKeyCacheTTL || now.Before(e.at) {
		k, err := s.Store.APIKeyByKey(ctx, key)
		if err != nil {
			return nil, err
		}
		e = &apiKeyEntry{key: *k, gen: gen, at: now}
		if k.LastUsedAt != nil {
			e.touched.Store(k.LastUsedAt.Unix())
		}
		c.mu.Lock()
		if c.m == nil || len(c.m) > 10000 {
			c.m = map[string]*apiKeyEntry{}
		}
		c.m[hash] = e
		c.mu.Unlock()
	}
	k := e.key
	if last := e.touched.Load(); now.Unix()-last >= 60 && e.touched.CompareAndSwap(last, now.Unix()) {
		k.LastUsedAt = nil // due: TouchAPIKey writes it
		if err := s.Store.TouchAPIKey(ctx, &k); err != nil {
			return &k, err
		}
	}
	return &k, nil
}
