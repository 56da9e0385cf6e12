package api

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/marketgate/marketgate/store"
)

// The API key of the seller's app is looked up on every request; the
// usage API and the seat check take thousands a second. A key read is
// used again, by its hash, in a store.GrantCache: a key revoked here is
// refused by the very next request, one revoked on another replica within
// store.GrantRecheck.

// APIKeyCacheTTL bounds how long a key revoked behind the store's back
// (SQL by hand, or on a replica stopped between its commit and its count
// of grant changes) may still be accepted here.
const APIKeyCacheTTL = time.Minute

type apiKeyEntry struct {
	key     store.APIKey
	touched atomic.Int64 // unix seconds of the last recorded use
}

func newAPIKeyCache() *store.GrantCache[string, *apiKeyEntry] {
	return &store.GrantCache[string, *apiKeyEntry]{TTL: APIKeyCacheTTL, Max: 10000}
}

// lookup returns the key with this hash (a copy), from memory while it
// may be used, and records its use at most once a minute.
func (s *Server) lookupAPIKey(ctx context.Context, key string) (*store.APIKey, error) {
	hash := store.HashAPIKey(key)
	gen, now := s.Store.GrantGeneration(), s.Store.Now()
	e, err := s.apiKeys.Load(hash, gen, now, func() (*apiKeyEntry, error) {
		k, err := s.Store.APIKeyByKey(ctx, key)
		if err != nil {
			return nil, err
		}
		e := &apiKeyEntry{key: *k}
		if k.LastUsedAt != nil {
			e.touched.Store(k.LastUsedAt.Unix())
		}
		return e, nil
	})
	if err != nil {
		return nil, err
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
