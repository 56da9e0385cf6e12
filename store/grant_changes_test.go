package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/marketgate/marketgate/store"
	"github.com/marketgate/marketgate/store/storetest"
)

// Each way the store writes a grant table moves the database's count of
// grant changes once committed (what another replica's caches watch); a
// write that changes no grant (a seat's last-checked time), a rolled-back
// transaction and a write to another table do not.
func TestGrantWritesMoveTheSharedCount(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		count := func() int64 {
			t.Helper()
			var n []int64
			if err := st.TestingReadDB(t).Raw("SELECT n FROM grant_generation WHERE id = 1").Scan(&n).Error; err != nil || len(n) != 1 {
				t.Fatalf("grant_generation: %v %v", n, err)
			}
			return n[0]
		}
		now := time.Now().UTC()
		k := &store.APIKey{Name: "app", Prefix: "mgk_probe"}
		sub := store.Subscription{Marketplace: "azure", State: "active", StateChangedAt: now, Version: 1, CreatedAt: now, UpdatedAt: now}
		for _, c := range []struct {
			name  string
			write func() error
			moves bool
		}{
			{"a model write (API key created)", func() error { return st.CreateAPIKey(ctx, k, "mgk_probe_secret") }, true},
			{"an update (API key revoked)", func() error { _, err := st.RevokeAPIKey(ctx, k.ID, now); return err }, true},
			{"a transaction (subscription created)", func() error {
				return st.InTx(ctx, func(tx *store.Tx) error { return tx.CreateSubscription(&sub) })
			}, true},
			{"a rolled-back transaction", func() error {
				err := st.InTx(ctx, func(tx *store.Tx) error {
					s2 := sub
					s2.ID, s2.AzureSubscriptionID = 0, "rolled-back"
					if err := tx.CreateSubscription(&s2); err != nil {
						return err
					}
					return errors.New("no")
				})
				if err == nil {
					return errors.New("committed")
				}
				return nil
			}, false},
			{"a seat's last-checked time", func() error { return st.TouchSeats(ctx, []uint{1}, now, now) }, false},
			{"another table (a setting)", func() error { return st.SetSetting(ctx, "probe", "1") }, false},
		} {
			before := count()
			if err := c.write(); err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			if moved := count() > before; moved != c.moves {
				t.Errorf("%s: the shared count moved: %v, want %v", c.name, moved, c.moves)
			}
		}
	})
}

// GrantGeneration reads the database's count at most every GrantRecheck
// (by the store's clock): another process's change is seen after it, not
// before; an unreadable count counts as a change at every read, so
// nothing cached is used while it cannot be read.
func TestGrantGenerationRechecksTheDatabase(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		clock := time.Now().UTC()
		st.Now = func() time.Time { return clock }
		raw, err := st.TestingDB(t).DB() // another process: no hooks, no local count
		if err != nil {
			t.Fatal(err)
		}
		g := st.GrantGeneration()
		if _, err := raw.Exec("UPDATE grant_generation SET n = n + 1 WHERE id = 1"); err != nil {
			t.Fatal(err)
		}
		if st.GrantGeneration() != g {
			t.Fatal("read the database again before GrantRecheck")
		}
		clock = clock.Add(store.GrantRecheck)
		g2 := st.GrantGeneration()
		if g2 == g {
			t.Fatal("another process's change unseen after GrantRecheck")
		}
		if _, err := raw.Exec("DROP TABLE grant_generation"); err != nil {
			t.Fatal(err)
		}
		clock = clock.Add(store.GrantRecheck)
		g3 := st.GrantGeneration()
		clock = clock.Add(store.GrantRecheck)
		if g3 == g2 || st.GrantGeneration() == g3 {
			t.Fatal("an unreadable count did not count as a change at each read")
		}
	})
}
