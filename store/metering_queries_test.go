package store_test

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/marketgate/marketgate/store"
	"github.com/marketgate/marketgate/store/storetest"
)

// A RecordDeadline selects by either cutoff or both (OR), and a zero one
// selects nothing; the records it selects are those the metering queries
// expire, warn about and refuse to make due again.
func TestRecordDeadlineSelectsByEitherCutoff(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		start := time.Date(2026, 3, 31, 20, 0, 0, 0, time.UTC)
		sub := awsSubscription(t, st, start)
		ids := map[string]uint{}
		for _, r := range []struct {
			name, mp string
			hour     time.Time
		}{
			{"aws-march", "aws", start},                        // 31 March 20:00
			{"azure-march", "azure", start},                    // 31 March 20:00
			{"aws-april", "aws", start.Add(5 * time.Hour)},     // 1 April 01:00
			{"azure-old", "azure", start.Add(-30 * time.Hour)}, // 30 March 14:00
		} {
			rec := store.MeteringRecord{SubscriptionID: sub.ID, Marketplace: r.mp, Dimension: r.name, Hour: r.hour, Quantity: 1,
				Status: store.RecordPending, CreatedAt: start, UpdatedAt: start}
			if err := st.TestingDB(t).Create(&rec).Error; err != nil {
				t.Fatal(err)
			}
			ids[r.name] = rec.ID
		}
		now := start.Add(12 * time.Hour) // 1 April 08:00: March is closed for AWS
		cases := []struct {
			name string
			d    store.RecordDeadline
			want []string
		}{
			{"window", store.RecordDeadline{WindowEnd: now.Add(-24 * time.Hour)}, []string{"azure-old"}},
			{"AWS month", store.RecordDeadline{AWSMonthStart: time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)}, []string{"aws-march"}},
			{"both", store.RecordDeadline{WindowEnd: now.Add(-24 * time.Hour), AWSMonthStart: time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)},
				[]string{"aws-march", "azure-old"}},
			{"zero", store.RecordDeadline{}, nil},
		}
		for _, c := range cases {
			got, err := st.Reads(context.Background()).PendingRecordsPastDeadline(c.d, now, 100)
			if err != nil {
				t.Fatal(err)
			}
			var want []uint
			for _, n := range c.want {
				want = append(want, ids[n])
			}
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("%s: selected %v, want %v (%v)", c.name, got, want, c.want)
			}
		}
	})
}

// A lease is exclusive: a second owner wins none of the records another
// holds, and an outcome is stored only by the owner that holds the lease.
func TestLeasesAndOutcomesBelongToTheirOwner(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		now := time.Date(2026, 4, 2, 10, 0, 0, 0, time.UTC)
		sub := awsSubscription(t, st, now)
		rec := store.MeteringRecord{SubscriptionID: sub.ID, Marketplace: "aws", Dimension: "d", Hour: now.Add(-2 * time.Hour), Quantity: 3,
			Status: store.RecordPending, CreatedAt: now, UpdatedAt: now}
		if err := st.TestingDB(t).Create(&rec).Error; err != nil {
			t.Fatal(err)
		}
		w := st.Writes(ctx)
		due, err := w.DueRecordIDs(now, []string{"active"}, 10, store.RecordPos{})
		if err != nil || !slices.Equal(due, []uint{rec.ID}) {
			t.Fatalf("due = %v, %v; want [%d]", due, err, rec.ID)
		}
		won, err := w.LeaseRecords(due, "a", now, now.Add(time.Minute))
		if err != nil || len(won) != 1 || won[0].LeaseOwner != "a" {
			t.Fatalf("first lease: %v, %v", won, err)
		}
		if again, err := w.LeaseRecords(due, "b", now.Add(time.Second), now.Add(time.Minute)); err != nil || len(again) != 0 {
			t.Fatalf("second owner won %v (%v) while the lease runs", again, err)
		}
		if ok, err := w.StoreRecordOutcome(rec.ID, "b", store.RecordOutcome{Status: store.RecordAccepted}, now); err != nil || ok {
			t.Fatalf("an owner without the lease stored an outcome (%v, %v)", ok, err)
		}
		if ok, err := w.StoreRecordOutcome(rec.ID, "a", store.RecordOutcome{Status: store.RecordAccepted, MarketplaceRecordID: "m-1"}, now); err != nil || !ok {
			t.Fatalf("the owner could not store its outcome (%v, %v)", ok, err)
		}
		got, err := w.MeteringRecordsByID([]uint{rec.ID})
		if err != nil || len(got) != 1 {
			t.Fatal(got, err)
		}
		if r := got[0]; r.Status != store.RecordAccepted || r.Attempts != 1 || r.LeaseOwner != "" || r.LeaseUntil != nil || r.MarketplaceRecordID != "m-1" {
			t.Errorf("stored record = %+v", r)
		}
	})
}

// The dispatcher's statements that name records by id read them by the
// primary key, whatever the statistics say. Postgres's statistics here
// are from when no record was pending (as autovacuum's between two hours'
// dispatches); then 20,000 records become pending. Before, each lease
// renewal of 25 records read every pending record through the status
// index (20-80 ms each at 60,000 pending, most of the database's time in
// a dispatch). Every statement must still do what it says, and on
// Postgres no index but the primary key may be read (SQLite's NOT INDEXED
// has no counter to read).
func TestRecordStatementsReadByID(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		db := st.TestingDB(t)
		sqlDB, err := db.DB()
		if err != nil {
			t.Fatal(err)
		}
		sqlDB.SetMaxOpenConns(1) // one Postgres session: its counters are flushed on demand
		now := time.Date(2026, 4, 2, 10, 0, 0, 0, time.UTC)
		sub := awsSubscription(t, st, now)
		insert := func(status string, from, n int) {
			t.Helper()
			recs := make([]store.MeteringRecord, n)
			for i := range recs {
				recs[i] = store.MeteringRecord{SubscriptionID: sub.ID, Marketplace: "aws", Dimension: fmt.Sprintf("d%d", from+i), Hour: now.Add(-2 * time.Hour),
					Quantity: 1, Status: status, CreatedAt: now, UpdatedAt: now}
			}
			if err := db.CreateInBatches(recs, 1000).Error; err != nil {
				t.Fatal(err)
			}
		}
		if st.Dialect == store.Postgres {
			if err := db.Exec("ALTER TABLE metering_records SET (autovacuum_enabled = false)").Error; err != nil {
				t.Fatal(err)
			}
		}
		insert(store.RecordAccepted, 0, 1000)
		if err := db.Exec("ANALYZE").Error; err != nil {
			t.Fatal(err)
		}
		insert(store.RecordPending, 1000, 20000)
		var ids []uint
		if err := db.Raw("SELECT id FROM metering_records WHERE status = ? ORDER BY id LIMIT 25", store.RecordPending).Scan(&ids).Error; err != nil || len(ids) != 25 {
			t.Fatal(ids, err)
		}
		otherIndexReads := func() int64 {
			t.Helper()
			if st.Dialect != store.Postgres {
				return 0
			}
			var n int64
			if err := db.Exec("SELECT pg_stat_force_next_flush()").Error; err != nil {
				t.Fatal(err)
			}
			if err := db.Raw(`SELECT coalesce(sum(idx_scan), 0) FROM pg_stat_user_indexes WHERE relname = 'metering_records' AND indexrelname <> 'metering_records_pkey'`).
				Scan(&n).Error; err != nil {
				t.Fatal(err)
			}
			var seq int64
			if err := db.Raw("SELECT seq_scan FROM pg_stat_user_tables WHERE relname = 'metering_records'").Scan(&seq).Error; err != nil {
				t.Fatal(err)
			}
			return n + seq
		}
		before := otherIndexReads()
		w := st.Writes(ctx)
		until := now.Add(time.Minute)
		won, err := w.LeaseRecords(ids, "a", now, until)
		if err != nil || len(won) != 25 {
			t.Fatalf("lease: won %d (%v), want 25", len(won), err)
		}
		if n, err := w.RenewHeldLeases(ids, "a", until.Add(time.Minute)); err != nil || n != 25 {
			t.Fatalf("renewal: %d (%v), want 25", n, err)
		}
		if still, err := w.HeldRecordIDs(ids, "b"); err != nil || len(still) != 0 {
			t.Fatalf("another owner holds %v (%v)", still, err)
		}
		if ok, err := w.StoreRecordOutcome(ids[0], "a", store.RecordOutcome{Status: store.RecordAccepted, MarketplaceRecordID: "m-1"}, now); err != nil || !ok {
			t.Fatalf("outcome: %v, %v", ok, err)
		}
		if ok, err := w.ExpireRecordFrom(ids[1], store.RecordPending, now, "late"); err != nil || !ok {
			t.Fatalf("expire: %v, %v", ok, err)
		}
		if n, err := w.MarkRecordsWarned(ids[2:4], now); err != nil || n != 2 {
			t.Fatalf("warned: %d, %v", n, err)
		}
		past := store.RecordDeadline{WindowEnd: now}
		if gone, err := w.RecordsPastDeadlineIn(ids, []string{store.RecordAccepted, store.RecordExpired}, past, until.Add(time.Hour)); err != nil || len(gone) != 2 {
			t.Fatalf("past deadline: %v, %v", gone, err)
		}
		if n, err := w.MakeRecordsDue(ids[:2], []string{store.RecordAccepted, store.RecordExpired}, store.RecordDeadline{WindowEnd: now.Add(-3 * time.Hour)}, now); err != nil || n != 2 {
			t.Fatalf("made due: %d, %v", n, err)
		}
		if err := w.ExpirePendingRecords(ids[20:], now, "window closed"); err != nil {
			t.Fatal(err)
		}
		var retries []store.IDOutcome // a batch's outcomes: sent again later, so still pending
		for _, id := range ids[4:8] {
			retries = append(retries, store.IDOutcome{ID: id, Owner: "a", Outcome: store.RecordOutcome{Retry: true, NextAttemptAt: until, Reason: "throttled"}})
		}
		if stored, err := w.StoreRecordOutcomes(retries, now); err != nil || len(stored) != 4 {
			t.Fatalf("a batch's outcomes: %v, %v", stored, err)
		}
		got, err := w.MeteringRecordsByID(ids)
		if err != nil || len(got) != 25 {
			t.Fatal(len(got), err)
		}
		for i, r := range got {
			want := store.RecordPending
			if i >= 20 {
				want = store.RecordExpired
			}
			if r.Status != want {
				t.Errorf("record %d: %s, want %s", i, r.Status, want)
			}
		}
		if n := otherIndexReads() - before; n != 0 {
			t.Errorf("the statements by id read another index of metering_records or scanned it %d times", n)
		}
	})
}

// Claims page through the due records in (hour, id) order: from a
// position, a claim lists the due records after it, across hours (the
// ids of a later hour may be lower).
func TestDueRecordsAfterAPosition(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		db := st.TestingDB(t)
		now := time.Date(2026, 4, 2, 10, 0, 0, 0, time.UTC)
		sub := awsSubscription(t, st, now)
		type rec struct {
			hour time.Time
			id   uint
		}
		var all []rec
		// Later hours first (now - 2 h, then - 3 h …), so that ids and hours
		// disagree.
		for h := 2; h <= 5; h++ {
			for d := 0; d < 7; d++ {
				r := store.MeteringRecord{SubscriptionID: sub.ID, Marketplace: "aws", Dimension: fmt.Sprintf("d%d", d), Hour: now.Add(-time.Duration(h) * time.Hour),
					Quantity: 1, Status: store.RecordPending, CreatedAt: now, UpdatedAt: now}
				if err := db.Create(&r).Error; err != nil {
					t.Fatal(err)
				}
				all = append(all, rec{r.Hour, r.ID})
			}
		}
		slices.SortFunc(all, func(a, b rec) int {
			if c := a.hour.Compare(b.hour); c != 0 {
				return c
			}
			return cmp.Compare(a.id, b.id)
		})
		w := st.Writes(context.Background())
		var after store.RecordPos
		var got []uint
		for page := 0; page < 4; page++ {
			ids, err := w.DueRecordIDs(now, []string{"active"}, 10, after)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, ids...)
			if len(ids) < 10 {
				break
			}
			i := slices.IndexFunc(all, func(r rec) bool { return r.id == ids[len(ids)-1] })
			after = store.RecordPos{Hour: all[i].hour, ID: all[i].id}
		}
		var want []uint
		for _, r := range all {
			want = append(want, r.id)
		}
		if !slices.Equal(got, want) {
			t.Errorf("pages listed %v, want %v", got, want)
		}
		// A lease returns what it won in the same order: the pass takes
		// its next position from the last record.
		won, err := w.LeaseRecords(got[5:15], "a", now, now.Add(time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		var wonIDs []uint
		for _, r := range won {
			wonIDs = append(wonIDs, r.ID)
		}
		if !slices.Equal(wonIDs, got[5:15]) {
			t.Errorf("the lease returned %v, want them in claim order %v", wonIDs, got[5:15])
		}
	})
}

// The metering health counts each kind of record, and the usage hours not
// sealed, exactly (the counts the metering page shows).
func TestMeteringHealthCounts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		db := st.TestingDB(t)
		now := time.Date(2026, 4, 2, 10, 0, 0, 0, time.UTC)
		sub := awsSubscription(t, st, now)
		n := 0
		add := func(status string, hour time.Time, settled *time.Time, count int) {
			t.Helper()
			for i := 0; i < count; i++ {
				n++
				r := store.MeteringRecord{SubscriptionID: sub.ID, Marketplace: "aws", Dimension: fmt.Sprintf("d%d", n), Hour: hour, Quantity: 1,
					Status: status, SettledAt: settled, CreatedAt: now, UpdatedAt: now}
				if err := db.Create(&r).Error; err != nil {
					t.Fatal(err)
				}
			}
		}
		recent, old := now.Add(-time.Hour), now.Add(-30*time.Hour)
		add(store.RecordPending, now.Add(-2*time.Hour), nil, 3)
		add(store.RecordPending, now.Add(-22*time.Hour), nil, 2) // expiring
		add(store.RecordAccepted, now.Add(-2*time.Hour), &recent, 4)
		add(store.RecordAccepted, now.Add(-40*time.Hour), &old, 5)
		add(store.RecordRejected, now.Add(-2*time.Hour), &recent, 1)
		add(store.RecordDuplicate, now.Add(-2*time.Hour), &recent, 1)
		add(store.RecordRejected, now.Add(-40*time.Hour), &old, 6)
		add(store.RecordExpired, now.Add(-50*time.Hour), &recent, 2)
		add(store.RecordExpired, now.Add(-10*24*time.Hour), &recent, 7)
		for i, sealed := range []bool{true, true, false, true, false, false} {
			if err := db.Exec("INSERT INTO usage_hours (subscription_id, dimension, hour, quantity, events, sealed, updated_at) VALUES (?, ?, ?, 1, 1, ?, ?)",
				sub.ID, "api", now.Add(-time.Duration(i)*time.Hour), sealed, now).Error; err != nil {
				t.Fatal(err)
			}
		}
		h, err := st.Reads(context.Background()).MeteringHealth(store.RecordDeadline{WindowEnd: now.Add(-20 * time.Hour)}, now.Add(-24*time.Hour), now.Add(-7*24*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		want := store.MeteringCounts{Pending: 5, Expiring: 2, Accepted: 4, Failed: 2, Expired: 2, Unsealed: 3}
		if h != want {
			t.Errorf("health counts %+v, want %+v", h, want)
		}
	})
}

// awsSubscription stores an active AWS subscription for records to belong to.
func awsSubscription(t *testing.T, st *store.Store, now time.Time) store.Subscription {
	t.Helper()
	sub := store.Subscription{Marketplace: "aws", State: "active", StateChangedAt: now, Version: 1, CreatedAt: now, UpdatedAt: now}
	if err := st.TestingDB(t).Create(&sub).Error; err != nil {
		t.Fatal(err)
	}
	return sub
}
