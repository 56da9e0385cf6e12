package store_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/marketgate/marketgate/store"
	"github.com/marketgate/marketgate/store/storetest"
	"gorm.io/gorm"
)

// ingestTx runs one ingestion transaction the way server/metering does:
// the turn and the set first, then the lookup of ids, then the inserts of
// the fresh ones; the set learns them once committed.
func ingestTx(t *testing.T, st *store.Store, seen *store.UsageSeen, evs []store.NewUsageEvent, ids []string, now time.Time) (prior map[string]store.UsageEvent, rows []int64) {
	t.Helper()
	ctx := context.Background()
	var us store.UsageStatements
	st.PrepareUsageStatements(ctx, &us)
	if err := st.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.SyncUsageSeen(ctx, nil, seen, now); err != nil {
			return err
		}
		var err error
		if prior, err = tx.UsageEventsByID(ctx, seen, ids, now); err != nil {
			return err
		}
		rows, err = tx.InsertUsageEvents(ctx, &us, evs, now)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	seen.Stored(evs, rows, now)
	return prior, rows
}

func usageEv(id string, at time.Time, status string) store.NewUsageEvent {
	return store.NewUsageEvent{EventID: id, Dimension: "d", Quantity: 1, OccurredAt: at, Status: status, Reason: "r-" + id, Source: "api"}
}

// The row ids InsertUsageEvents reports are the rows the events are in,
// for every statement shape (one row; a short chunk, prepared per size; a
// full chunk; several): on SQLite they are worked out from the last row
// id, not read back.
func TestInsertUsageEventsReportsTheirRows(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		now := time.Now().UTC()
		var seen store.UsageSeen
		for _, n := range []int{1, 5, 64, 65, 399, 400, 401, 1000} {
			evs := make([]store.NewUsageEvent, n)
			for i := range evs {
				evs[i] = usageEv(fmt.Sprintf("rows-%d-%d", n, i), now, store.UsageAccepted)
			}
			_, rows := ingestTx(t, st, &seen, evs, nil, now)
			var got []store.UsageEvent
			if err := st.TestingReadDB(t).Where("event_id LIKE ?", fmt.Sprintf("rows-%d-%%", n)).Find(&got).Error; err != nil {
				t.Fatal(err)
			}
			byID := map[string]int64{}
			for _, e := range got {
				byID[e.EventID] = int64(e.ID)
			}
			if len(got) != n {
				t.Fatalf("%d events: %d stored", n, len(got))
			}
			for i, e := range evs {
				if byID[e.EventID] != rows[i] {
					t.Fatalf("%d events: %s reported in row %d, stored in %d", n, e.EventID, rows[i], byID[e.EventID])
				}
			}
		}
	})
}

// A repeat within the window is found whatever process stored it first
// (this one, another one sharing the database, or one before a restart),
// with what it got; an id past the window is not a repeat; events stored
// before buckets existed (bucket 0) count when they arrived within reach
// of the window. When one id is stored twice, the accepted one answers. A
// start-up from a read snapshot then learns what was stored after it.
func TestUsageEventsByID(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		now := time.Now().UTC().Truncate(time.Second)
		db := st.TestingDB(t)
		// Stored before this process started: a legacy row that arrived an
		// hour ago, one that arrived four days ago, one past the window, a
		// repeat of an event first stored before the window (its second row
		// is the accepted one).
		old := now.Add(-96 * time.Hour)
		for _, e := range []store.UsageEvent{
			{DedupBucket: 0, EventID: "ev-legacy", Status: store.UsageAccepted, ReceivedAt: now.Add(-time.Hour)},
			{DedupBucket: 0, EventID: "ev-legacy-old", Status: store.UsageAccepted, ReceivedAt: old},
			{DedupBucket: store.UsageDedupBucket(old), EventID: "ev-too-old", Status: store.UsageAccepted, OccurredAt: &old, ReceivedAt: old},
			{DedupBucket: store.UsageDedupBucket(now), EventID: "ev-twice", Status: store.UsageRejected, Reason: "r", ReceivedAt: now.Add(-time.Hour)},
			{DedupBucket: store.UsageDedupBucket(now), EventID: "ev-twice", Status: store.UsageAccepted, ReceivedAt: now.Add(-time.Minute)},
		} {
			e.Dimension, e.Source = "d", "api"
			if err := db.Create(&e).Error; err != nil {
				t.Fatal(err)
			}
		}
		var a, b store.UsageSeen // two processes
		prior, _ := ingestTx(t, st, &a, []store.NewUsageEvent{
			usageEv("ev-now", now, store.UsageAccepted),
			usageEv("ev-2days", now.Add(-47*time.Hour), store.UsageAccepted),
			usageEv("ev-rejected", now, store.UsageRejected),
		}, []string{"ev-legacy", "ev-legacy-old", "ev-too-old", "ev-twice", "fresh"}, now)
		if len(prior) != 2 || prior["ev-legacy"].Status != store.UsageAccepted || prior["ev-twice"].Status != store.UsageAccepted {
			t.Fatalf("at start: %+v", prior)
		}
		if a.Len() != 6 {
			t.Errorf("the set holds %d ids, want 6 (ev-legacy, ev-twice twice, and this transaction's three)", a.Len())
		}
		// b starts after a's events: it loads them; a learns b's from the table.
		prior, _ = ingestTx(t, st, &b, []store.NewUsageEvent{usageEv("ev-b", now, store.UsageAccepted)},
			[]string{"ev-now", "ev-2days", "ev-rejected", "fresh"}, now)
		if len(prior) != 3 || prior["ev-rejected"].Status != store.UsageRejected || prior["ev-rejected"].Reason != "r-ev-rejected" ||
			prior["ev-now"].Status != store.UsageAccepted {
			t.Fatalf("another process: %+v", prior)
		}
		prior, _ = ingestTx(t, st, &a, nil, []string{"ev-b", "ev-now"}, now)
		if len(prior) != 2 {
			t.Fatalf("the other process's event: %+v", prior)
		}
		// A day and a half later, ev-2days (keyed 47 hours before now) is past
		// the window of 48 hours and 5 minutes; ev-now is not.
		later := now.Add(36 * time.Hour)
		prior, _ = ingestTx(t, st, &a, nil, []string{"ev-2days", "ev-now", "ev-b"}, later)
		if _, ok := prior["ev-2days"]; ok || len(prior) != 2 {
			t.Fatalf("a day and a half on: %+v", prior)
		}
		var c store.UsageSeen // a restart then
		if prior, _ = ingestTx(t, st, &c, nil, []string{"ev-2days", "ev-now", "ev-b", "ev-legacy"}, later); len(prior) != 3 {
			t.Fatalf("a restart a day and a half on: %+v", prior)
		}
		// A start-up loads from a snapshot, outside ingestion's turn; what is
		// stored after it is read under the turn.
		var d store.UsageSeen
		if err := st.LoadUsageSeen(context.Background(), &d, later); err != nil {
			t.Fatal(err)
		}
		if d.Len() != c.Len() {
			t.Errorf("the snapshot holds %d ids, the load under the turn %d", d.Len(), c.Len())
		}
		ingestTx(t, st, &a, []store.NewUsageEvent{usageEv("ev-after", later, store.UsageAccepted)}, nil, later)
		if prior, _ = ingestTx(t, st, &d, nil, []string{"ev-now", "ev-b", "ev-legacy", "ev-after"}, later); len(prior) != 4 {
			t.Fatalf("after a start-up from a snapshot: %+v", prior)
		}
	})
}

// Ids past the window are dropped from memory.
func TestUsageSeenDropsIdsPastTheWindow(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		now := time.Now().UTC()
		var s store.UsageSeen
		evs := make([]store.NewUsageEvent, 100)
		for i := range evs {
			evs[i] = usageEv(fmt.Sprintf("sweep-%d", i), now.Add(-time.Duration(i)*time.Hour/4), store.UsageAccepted)
		}
		ingestTx(t, st, &s, evs, nil, now)
		if s.Len() != 100 {
			t.Fatalf("%d ids held, want 100", s.Len())
		}
		// 30 hours on: the events keyed more than 18 h 5 min before now
		// (i/4 hours back, i ≥ 73) are past the window.
		ingestTx(t, st, &s, nil, nil, now.Add(30*time.Hour))
		if s.Len() != 73 {
			t.Fatalf("%d ids held 30 hours on, want 73", s.Len())
		}
	})
}

// Events placed again after their hour changed under them (Postgres: a
// seal between the read of the hours and the add) are updated by the row
// ids InsertUsageEvents reported: a late move and a refusal touch exactly
// those rows, and a repeat is then answered with what they became.
func TestUsageEventsMovedAndRefusedByRow(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		now := time.Now().UTC().Truncate(time.Second)
		hour, cur := now.Truncate(time.Hour).Add(-time.Hour), now.Truncate(time.Hour)
		var seen store.UsageSeen
		evs := make([]store.NewUsageEvent, 3)
		for i := range evs {
			evs[i] = usageEv(fmt.Sprintf("moved-%d", i), now, store.UsageAccepted)
			evs[i].Hour = &hour
		}
		_, rows := ingestTx(t, st, &seen, evs, nil, now)
		if err := st.InTx(ctx, func(tx *store.Tx) error {
			if err := tx.MoveUsageEventsLate(rows[:1], cur); err != nil {
				return err
			}
			return tx.RejectUsageEvents(rows[1:2], "usage_final_sent")
		}); err != nil {
			t.Fatal(err)
		}
		prior, _ := ingestTx(t, st, &seen, nil, []string{"moved-0", "moved-1", "moved-2"}, now)
		if p := prior["moved-0"]; p.Status != store.UsageAccepted || !p.Late || p.Hour == nil || !p.Hour.Equal(cur) {
			t.Errorf("moved late: %+v", p)
		}
		if p := prior["moved-1"]; p.Status != store.UsageRejected || p.Reason != "usage_final_sent" || p.Hour != nil {
			t.Errorf("refused: %+v", p)
		}
		if p := prior["moved-2"]; p.Status != store.UsageAccepted || p.Late || p.Hour == nil || !p.Hour.Equal(hour) {
			t.Errorf("untouched: %+v", p)
		}
	})
}

// UsageHoursFrom reads the hours of exactly the subscriptions asked for,
// of the dimension asked for, from the hour given on, whatever the length
// of the list: its statement is prepared for a few lengths and a list is
// padded (by repeating its last subscription) up to one of them, or split
// past the longest. Each subscription's read is a range of the table's key
// (subscription, dimension, hour): sealing keeps a row every hour for
// every metered dimension, and the read before this one, not naming the
// dimension, went through each subscription's every hour kept (with a
// month kept, ingestion ran at a quarter of its rate; see
// BenchmarkIngestAfterAMonth).
func TestUsageHoursFromAnyLength(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		var us store.UsageStatements
		st.PrepareUsageStatements(ctx, &us)
		now := time.Now().UTC()
		cur := now.Truncate(time.Hour)
		const subs = 2000
		var adds []store.UsageHourAdd
		for s := uint(1); s <= subs; s++ {
			adds = append(adds,
				store.UsageHourAdd{SubscriptionID: s, Dimension: "d", Hour: cur.Add(-2 * time.Hour), Quantity: 1, Events: 1},
				store.UsageHourAdd{SubscriptionID: s, Dimension: "d", Hour: cur, Quantity: float64(s), Events: 1},
				store.UsageHourAdd{SubscriptionID: s, Dimension: "e", Hour: cur, Quantity: 1, Events: 1})
		}
		if err := st.InTx(ctx, func(tx *store.Tx) error {
			_, err := tx.AddToUsageHours(ctx, &us, adds, now, 1e12)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		for _, n := range []int{1, 3, 64, 65, 900, 901, 1999} {
			ids := make([]uint, n)
			for i := range ids {
				ids[i] = uint(1 + (i*7)%subs)
			}
			want := map[uint]bool{}
			for _, id := range ids {
				want[id] = true
			}
			var got []store.UsageHourState
			if err := st.InTx(ctx, func(tx *store.Tx) error {
				var err error
				got, err = tx.UsageHoursFrom(ctx, &us, "d", ids, cur.Add(-time.Hour))
				return err
			}); err != nil {
				t.Fatal(err)
			}
			seen := map[uint]bool{}
			for _, h := range got {
				if !want[h.SubscriptionID] || seen[h.SubscriptionID] || h.Dimension != "d" || !h.Hour.Equal(cur) || h.Quantity != float64(h.SubscriptionID) {
					t.Fatalf("%d subscriptions asked: got %+v (asked for it: %v, twice: %v)", n, h, want[h.SubscriptionID], seen[h.SubscriptionID])
				}
				seen[h.SubscriptionID] = true
			}
			if len(seen) != len(want) {
				t.Fatalf("%d subscriptions asked: %d hours read, want %d", n, len(seen), len(want))
			}
		}

		// The plan: the key's range from the hour on, for each subscription.
		q := st.TestingUsageHoursFromSQL(t, 2)
		args := []any{1, 2, "d", cur}
		db := st.TestingDB(t)
		var plan []string
		var err error
		if st.Dialect == store.Postgres {
			err = db.Transaction(func(tx *gorm.DB) error {
				if err := tx.Exec("SET LOCAL enable_seqscan = off").Error; err != nil {
					return err
				}
				return tx.Raw("EXPLAIN "+q, args...).Scan(&plan).Error
			})
		} else {
			var rows []struct {
				ID, Parent, Notused int
				Detail              string
			}
			err = db.Raw("EXPLAIN QUERY PLAN "+q, args...).Scan(&rows).Error
			for _, r := range rows {
				plan = append(plan, r.Detail)
			}
		}
		if err != nil {
			t.Fatal(err)
		}
		all := strings.Join(plan, "\n")
		ranged := strings.Contains(all, "subscription_id=? AND dimension=? AND hour>?") || // SQLite
			strings.Contains(all, "Index Cond: ((subscription_id = ANY") && strings.Contains(all, "(dimension)::text = ") && strings.Contains(all, "(hour >= ") // Postgres
		if !ranged {
			t.Errorf("the read of the hours is not a range of the key:\n%s", all)
		}
	})
}

// TestUsageSeenSyncPlansForTheTable: on Postgres, the read of the rows
// stored since the dedup set's last look is planned for the table as it
// is when it runs. The prepared statement it was before kept the plan
// Postgres settled on while the table was small, a sequential scan, and
// a benchmark's single events ran at 519 requests/s against 6,200 while
// that plan read half a million rows for every group. Here Postgres is
// told to plan generically (plan_cache_mode = force_generic_plan: it
// chose the generic plan by itself then, once it cost no more than the
// custom ones) on one connection, the set syncs while the table holds
// ten rows, then 100,000 rows are added (autovacuum off, so no new
// statistics replace a cached plan), and the next syncs must not scan
// the table. The statement as it was fails this: its plan is the small
// table's.
func TestUsageSeenSyncPlansForTheTable(t *testing.T) {
	st := storetest.Open(t, store.Postgres)
	ctx := context.Background()
	db := st.TestingDB(t)
	sqlDB, err := db.DB()
	if err != nil {
		t.Fatal(err)
	}
	sqlDB.SetMaxOpenConns(1)
	// (TRUNCATE leaves the table without statistics: the planner sizes it
	// by its pages when it plans.)
	for _, q := range []string{"ALTER TABLE usage_events SET (autovacuum_enabled = false)", "TRUNCATE usage_events", "SET plan_cache_mode = force_generic_plan"} {
		if err := db.Exec(q).Error; err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now().UTC()
	var seen store.UsageSeen
	var us store.UsageStatements
	st.PrepareUsageStatements(ctx, &us)
	sync := func() {
		t.Helper()
		if err := st.InTx(ctx, func(tx *store.Tx) error { return tx.SyncUsageSeen(ctx, &us, &seen, now) }); err != nil {
			t.Fatal(err)
		}
	}
	seqScans := func() int64 {
		t.Helper()
		var n int64
		if err := db.Exec("SELECT pg_stat_force_next_flush()").Error; err != nil {
			t.Fatal(err)
		}
		if err := db.Raw("SELECT seq_scan FROM pg_stat_user_tables WHERE relname = 'usage_events'").Scan(&n).Error; err != nil {
			t.Fatal(err)
		}
		return n
	}
	evs := make([]store.NewUsageEvent, 10)
	for i := range evs {
		evs[i] = usageEv(fmt.Sprintf("small-%d", i), now, store.UsageAccepted)
	}
	ingestTx(t, st, &seen, evs, nil, now)
	for i := 0; i < 8; i++ {
		sync()
	}
	if err := db.Exec(`INSERT INTO usage_events (dedup_bucket, event_id, status, source, received_at)
		SELECT 0, 'grown-' || g, 'accepted', 'api', now() FROM generate_series(1, 100000) g`).Error; err != nil {
		t.Fatal(err)
	}
	sync() // reads the 100,000 rows (in pages of 5,000)
	before := seqScans()
	for i := 0; i < 5; i++ {
		sync()
	}
	if n := seqScans() - before; n != 0 {
		t.Fatalf("5 syncs after the table grew scanned it whole %d times", n)
	}
}
