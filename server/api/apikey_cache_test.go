package api_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/marketgate/marketgate/server/api"
	"github.com/marketgate/marketgate/server/auth"
	"github.com/marketgate/marketgate/store"
	"github.com/marketgate/marketgate/store/storetest"
)

// The v1 API's key cache (apikey_cache.go): a key revoked on this replica
// is refused by the next request; one revoked on another replica (one
// SQLite file; one Postgres) within store.GrantRecheck; one revoked behind
// the store's back (SQL by hand: no count of grant changes moves) within
// api.APIKeyCacheTTL.
func TestAPIKeyRevokedOnAnotherReplica(t *testing.T) {
	for _, d := range storetest.Dialects() {
		t.Run(d, func(t *testing.T) {
			ctx := context.Background()
			cfg := storetest.Migrated(t, d)
			st := storetest.OpenOn(t, cfg)
			must(t, st.Migrate())
			other := storetest.OpenOn(t, cfg)
			clock := time.Now().UTC()
			st.Now = func() time.Time { return clock }
			e := newEnv(t, st, nil)
			mk := func(name string) (string, uint) {
				key, prefix := auth.NewAPIKey()
				k := &store.APIKey{Name: name, Prefix: prefix}
				must(t, st.CreateAPIKey(ctx, k, key))
				return key, k.ID
			}
			const path = "/api/v1/access?customer=nobody"
			there, thereID := mk("there")
			here, hereID := mk("here")
			byHand, byHandID := mk("by hand")
			for _, k := range []string{there, here, byHand} {
				if r := apiGet(e, k, path); r.code == 401 {
					t.Fatalf("a live key refused: %d %s", r.code, r.body)
				}
			}
			// Revoked by the other replica: accepted at most until the bound …
			_, err := other.RevokeAPIKey(ctx, thereID, clock)
			must(t, err)
			if r := apiGet(e, there, path); r.code == 401 {
				t.Fatal("the key was read again (no cache)")
			}
			clock = clock.Add(store.GrantRecheck)
			apiGet(e, there, path).errCode(t, 401, "unauthenticated")
			// Revoked by hand: accepted until the cache's own time to live.
			if r := apiGet(e, byHand, path); r.code == 401 { // (read again: the generation moved)
				t.Fatalf("a live key refused: %d %s", r.code, r.body)
			}
			raw, err := other.TestingDB(t).DB()
			must(t, err)
			_, err = raw.ExecContext(ctx, fmt.Sprintf("UPDATE api_keys SET revoked_at = created_at WHERE id = %d", byHandID))
			must(t, err)
			clock = clock.Add(store.GrantRecheck)
			if r := apiGet(e, byHand, path); r.code == 401 {
				t.Fatal("a change that moved no count was seen before the cache's time to live")
			}
			clock = clock.Add(api.APIKeyCacheTTL)
			apiGet(e, byHand, path).errCode(t, 401, "unauthenticated")
			// … revoked here: refused by the next request.
			_, err = st.RevokeAPIKey(ctx, hereID, clock)
			must(t, err)
			apiGet(e, here, path).errCode(t, 401, "unauthenticated")
		})
	}
}
