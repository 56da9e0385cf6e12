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

// Deduplication by the ids each process holds in memory (issue 18; see
// the notes in store/usage_seen.go): a repeated id is counted once within
// the acceptance window — through the other replica (two processes on one
// SQLite file; two on one Postgres), concurrently, after a restart, with
// another timestamp, across a bucket boundary — and a failure between
// storing the id and counting it leaves neither.
func TestDedupAcrossReplicasRestartsAndBuckets(t *testing.T) {
	for _, d := range storetest.Dialects() {
		t.Run(d, func(t *testing.T) {
			cfg := storetest.Migrated(t, d)
			stA := storetest.OpenOn(t, cfg)
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
				st := storetest.OpenOn(t, cfg)
				st.Now = w.clk.now
				return &metering.Meter{Store: st, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Owner: "replica"}
			}
			b := replica()
			ev := func(id string, at time.Time) metering.Event {
				return metering.Event{ID: id, Customer: "XLEGACY", Dimension: "api_calls", Quantity: 1, Timestamp: at}
			}
			ingest := func(m *metering.Meter, evs ...metering.Event) []metering.Result { return mustIngest(t, m, evs...) }

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
			accepted := ingestConcurrently(t, []*metering.Meter{w.m, b}, ids)
			for _, e := range ids {
				if accepted[e.ID] != 1 {
					t.Errorf("%s accepted %d times", e.ID, accepted[e.ID])
				}
			}

			// A failure between storing the ids and counting them (here the
			// hourly totals refuse the write) leaves neither: the client's
			// repeat is counted, once.
			failBetweenIDAndCount(t, stA, d, w.m, b, ev("k1", now), ev("k2", now))

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

			checkWindow(t, w.clk, c, boundary, ev)
		})
	}
}

// mustIngest ingests events through m.
func mustIngest(t *testing.T, m *metering.Meter, evs ...metering.Event) []metering.Result {
	t.Helper()
	res, err := m.Ingest(context.Background(), nil, "api", evs)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// dup reports whether r answers a repeat of an accepted event.
func dup(r metering.Result) bool {
	return r.Status == "duplicate" && r.OriginalStatus == store.UsageAccepted
}

// checkWindow: x1, first sent 20 minutes before boundary, is a repeat 23
// hours after boundary; a new id older than the window is refused with
// its stable code, and so is x1 once its bucket is no longer probed.
func checkWindow(t *testing.T, clk *clock, c *metering.Meter, boundary time.Time, ev func(string, time.Time) metering.Event) {
	t.Helper()
	ingest := func(m *metering.Meter, evs ...metering.Event) []metering.Result { return mustIngest(t, m, evs...) }
	// 23 hours on, x1 (its timestamp still within the window) is a repeat …
	clk.set(boundary.Add(23 * time.Hour))
	if r := ingest(c, ev("x1", boundary.Add(-20*time.Minute))); !dup(r[0]) {
		t.Fatalf("within the window: %+v", r)
	}
	// A new id older than the window is refused with its stable code.
	clk.set(boundary.Add(24 * time.Hour))
	if r := ingest(c, ev("old1", boundary.Add(-20*time.Minute))); r[0].Status != store.UsageRejected || r[0].Code != "usage_too_old" {
		t.Fatalf("older than the window: %+v", r)
	}
	// Once x1's bucket is no longer probed (two days on), its repeat is
	// refused the same way: never counted again.
	clk.set(boundary.Add(49 * time.Hour))
	if r := ingest(c, ev("x1", boundary.Add(-20*time.Minute))); r[0].Status != store.UsageRejected || r[0].Code != "usage_too_old" {
		t.Fatalf("a repeat past the probed buckets: %+v", r)
	}
}

// ingestConcurrently sends the same events through each meter three
// times at once and counts, per id, the answers that accepted it.
func ingestConcurrently(t *testing.T, ms []*metering.Meter, evs []metering.Event) map[string]int {
	var mu sync.Mutex
	accepted := map[string]int{}
	var wg sync.WaitGroup
	for g := 0; g < 3*len(ms); g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := ms[g%len(ms)].Ingest(context.Background(), nil, "api", evs)
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
	return accepted
}

// failBetweenIDAndCount makes the hourly totals refuse the write of a
// batch through first (its ids would be stored by then), then sends it
// again through second: accepted, every event.
func failBetweenIDAndCount(t *testing.T, st *store.Store, dialect string, first, second *metering.Meter, evs ...metering.Event) {
	t.Helper()
	ctx := context.Background()
	boom(t, st, dialect, true)
	if _, err := first.Ingest(ctx, nil, "api", evs); err == nil {
		t.Fatal("the ingest went through the failing hour write")
	}
	boom(t, st, dialect, false)
	res, err := second.Ingest(ctx, nil, "api", evs)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Status != store.UsageAccepted {
			t.Fatalf("after the failure: %+v", res)
		}
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
