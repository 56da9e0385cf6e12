package metering_test

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/marketgate/marketgate/server/metering"
	"github.com/marketgate/marketgate/store"
	"github.com/marketgate/marketgate/store/storetest"
)

// Deduplication by (dedup bucket, id) (issue 18; see the notes in
// store/metering_ingest.go): a repeated id is counted once within the
// acceptance window — through the other replica (two processes on one
// SQLite file; two on one Postgres), concurrently, after a restart, with
// another timestamp, across a bucket boundary — and a failure between
// storing the id and counting it leaves neither.
func TestDedupAcrossReplicasRestartsAndBuckets(t *testing.T) {
	for _, d := range storetest.Dialects() {
		t.Run(d, func(t *testing.T) {
			ctx := context.Background()
			cfg := storetest.Config(t, d)
			open := func() *store.Store {
				st, err := store.Open(ctx, cfg)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { _ = st.Close() })
				return st
			}
			stA := open()
			if err := stA.Migrate(); err != nil {
				t.Fatal(err)
			}
			w := newWorld(t, stA)
			// Start just after a bucket boundary, so that the window spans two buckets.
			width := int64(store.UsageDedupWidth / time.Second)
			boundary := time.Unix((w.clk.now().Unix()/width+1)*width, 0).UTC()
			w.clk.set(boundary.Add(10 * time.Minute))
			now := w.clk.now()
			replica := func() *metering.Meter {
				st := open()
				st.Now = w.clk.now
				return &metering.Meter{Store: st, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Owner: "replica"}
			}
			b := replica()
			ev := func(id string, at time.Time) metering.Event {
				return metering.Event{ID: id, Customer: "XLEGACY", Dimension: "api_calls", Quantity: 1, Timestamp: at}
			}
			ingest := func(m *metering.Meter, evs ...metering.Event) []metering.Result {
				t.Helper()
				res, err := m.Ingest(ctx, nil, "api", evs)
				if err != nil {
					t.Fatal(err)
				}
				return res
			}
			dup := func(r metering.Result) bool {
				return r.Status == "duplicate" && r.OriginalStatus == store.UsageAccepted
			}

			// Before the boundary, then again through the other replica with a
			// timestamp after it (another bucket): one count.
			if r := ingest(w.m, ev("x1", boundary.Add(-20*time.Minute))); r[0].Status != store.UsageAccepted {
				t.Fatalf("first delivery: %+v", r)
			}
			if r := ingest(b, ev("x1", boundary.Add(-20*time.Minute)), ev("x1", now)); !dup(r[0]) || !dup(r[1]) {
				t.Fatalf("repeats through the other replica: %+v", r)
			}

			// The same fresh ids at once through both replicas: each counted once.
			ids := make([]metering.Event, 60)
			for i := range ids {
				ids[i] = ev("c"+string(rune('A'+i%26))+string(rune('a'+i/26)), now.Add(-time.Duration(i)*time.Minute))
			}
			var mu sync.Mutex
			accepted := map[string]int{}
			var wg sync.WaitGroup
			for g := 0; g < 6; g++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					m := w.m
					if g%2 == 1 {
						m = b
					}
					res, err := m.Ingest(ctx, nil, "api", ids)
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					defer mu.Unlock()
					for _, r := range res {
						if r.Status == store.UsageAccepted {
							accepted[r.ID]++
						}
					}
				}()
			}
			wg.Wait()
			for _, e := range ids {
				if accepted[e.ID] != 1 {
					t.Errorf("%s accepted %d times", e.ID, accepted[e.ID])
				}
			}

			// A failure between storing the ids and counting them (here the
			// hourly totals refuse the write) leaves neither: the client's
			// repeat is counted, once.
			boom(t, stA, d, true)
			if _, err := w.m.Ingest(ctx, nil, "api", []metering.Event{ev("k1", now), ev("k2", now)}); err == nil {
				t.Fatal("the ingest went through the failing hour write")
			}
			boom(t, stA, d, false)
			if r := ingest(b, ev("k1", now), ev("k2", now)); r[0].Status != store.UsageAccepted || r[1].Status != store.UsageAccepted {
				t.Fatalf("after the failure: %+v", r)
			}

			// A restart (a new process on the same database): still a repeat.
			c := replica()
			if r := ingest(c, ev("x1", now), ev("k1", now), ev(ids[5].ID, ids[5].Timestamp)); !dup(r[0]) || !dup(r[1]) || !dup(r[2]) {
				t.Fatalf("after a restart: %+v", r)
			}

			// Counted once each: x1, 60 concurrent ids, k1 and k2.
			var events int64
			stA.TestingReadDB(t).Table("usage_hours").Select("COALESCE(SUM(events), 0)").Where("subscription_id = ?", w.legA.ID).Scan(&events)
			if events != 63 {
				t.Fatalf("usage_hours counts %d events, want 63", events)
			}
			var stored int64
			stA.TestingReadDB(t).Table("usage_events").Where("event_id IN ?", []string{"x1", "k1", "k2"}).Count(&stored)
			if stored != 3 {
				t.Fatalf("%d rows for x1, k1, k2", stored)
			}

			// 23 hours on, x1 (its timestamp still within the window) is a repeat …
			w.clk.set(boundary.Add(23 * time.Hour))
			if r := ingest(c, ev("x1", boundary.Add(-20*time.Minute))); !dup(r[0]) {
				t.Fatalf("within the window: %+v", r)
			}
			// A new id older than the window is refused with its stable code.
			w.clk.set(boundary.Add(24 * time.Hour))
			if r := ingest(c, ev("old1", boundary.Add(-20*time.Minute))); r[0].Status != store.UsageRejected || r[0].Code != "usage_too_old" {
				t.Fatalf("older than the window: %+v", r)
			}
			// Once x1's bucket is no longer probed (two days on), its repeat is
			// refused the same way: never counted again.
			w.clk.set(boundary.Add(49 * time.Hour))
			if r := ingest(c, ev("x1", boundary.Add(-20*time.Minute))); r[0].Status != store.UsageRejected || r[0].Code != "usage_too_old" {
				t.Fatalf("a repeat past the probed buckets: %+v", r)
			}
		})
	}
}

// boom makes writes to usage_hours fail (on) or work again (off).
func boom(t *testing.T, st *store.Store, dialect string, on bool) {
	t.Helper()
	db := st.TestingDB(t)
	var stmts []string
	switch {
	case dialect == store.SQLite && on:
		stmts = []string{"CREATE TRIGGER mg_boom BEFORE INSERT ON usage_hours BEGIN SELECT RAISE(ABORT, 'crash'); END"}
	case dialect == store.SQLite:
		stmts = []string{"DROP TRIGGER mg_boom"}
	case on:
		stmts = []string{"CREATE FUNCTION mg_boom() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'crash'; END $$ LANGUAGE plpgsql",
			"CREATE TRIGGER mg_boom BEFORE INSERT ON usage_hours FOR EACH ROW EXECUTE FUNCTION mg_boom()"}
	default:
		stmts = []string{"DROP TRIGGER mg_boom ON usage_hours", "DROP FUNCTION mg_boom()"}
	}
	for _, s := range stmts {
		if err := db.Exec(s).Error; err != nil {
			t.Fatal(err)
		}
	}
}
