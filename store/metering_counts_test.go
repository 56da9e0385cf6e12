package store_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/marketgate/marketgate/store"
	"github.com/marketgate/marketgate/store/storetest"
)

// countsAgree checks the metering health's record counts, the
// records-by-status metric and the records list's total, which read
// metering_record_counts, against
// counts of the records themselves, for windows that start on an hour and
// inside one.
func countsAgree(t *testing.T, st *store.Store, now time.Time, step string) {
	t.Helper()
	db := st.TestingDB(t)
	r := st.Reads(context.Background())
	count := func(cond string, args ...any) int64 {
		t.Helper()
		var n int64
		if err := db.Model(&store.MeteringRecord{}).Where(cond, args...).Count(&n).Error; err != nil {
			t.Fatal(err)
		}
		return n
	}
	failed := []string{store.RecordRejected, store.RecordDuplicate, store.RecordConflict}
	for _, since := range []time.Time{now.Add(-24 * time.Hour), now.Add(-24*time.Hour + 10*time.Minute), now.Add(-150 * time.Minute), now.Add(-30 * 24 * time.Hour)} {
		h, err := r.MeteringHealth(store.RecordDeadline{}, since, since)
		if err != nil {
			t.Fatal(err)
		}
		want := store.MeteringCounts{
			Pending:  count("status = ?", store.RecordPending),
			Accepted: count("status = ? AND settled_at >= ?", store.RecordAccepted, since),
			Failed:   count("status IN ? AND settled_at >= ?", failed, since),
			Expired:  count("status = ? AND hour >= ?", store.RecordExpired, since),
		}
		h.Unsealed = 0
		if h != want {
			t.Errorf("%s, since %s: health %+v, the records say %+v", step, since.Format(time.DateTime), h, want)
		}
		by, err := r.MeteringRecordsByStatus(since)
		if err != nil {
			t.Fatal(err)
		}
		truth := map[string]int64{}
		for _, s := range store.RecordStatuses {
			if n := count("status = ? AND hour >= ?", s, since); n > 0 {
				truth[s] = n
			}
		}
		if !maps.Equal(by, truth) {
			t.Errorf("%s, since %s: by status %v, the records say %v", step, since.Format(time.DateTime), by, truth)
		}
		// The records list's total, for the filters counted from
		// metering_record_counts and one counted from the records.
		until := since.Add(5 * time.Hour)
		for _, c := range []struct {
			f    store.RecordFilter
			want int64
		}{
			{store.RecordFilter{}, count("1 = 1")},
			{store.RecordFilter{Statuses: failed}, count("status IN ?", failed)},
			{store.RecordFilter{Statuses: []string{store.RecordPending}, From: since}, count("status = ? AND hour >= ?", store.RecordPending, since)},
			{store.RecordFilter{From: since, To: until}, count("hour >= ? AND hour < ?", since, until)},
			{store.RecordFilter{Statuses: []string{store.RecordAccepted}, Marketplace: "aws", To: until}, count("status = ? AND marketplace = ? AND hour < ?", store.RecordAccepted, "aws", until)},
		} {
			c.f.Limit = 1
			if page, err := st.ListRecords(context.Background(), c.f); err != nil || page.Total != c.want || page.TotalCapped {
				t.Errorf("%s, since %s: records list %+v counts %d (capped %v, %v), the records say %d", step, since.Format(time.DateTime), c.f, page.Total, page.TotalCapped, err, c.want)
			}
		}
	}
}

// Every way a record is written, changed or deleted keeps the counts the
// metering health and metrics read in step with the records, before and
// after the counts are folded.
func TestMeteringRecordCountsFollowEveryChange(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		now := time.Date(2026, 4, 2, 10, 20, 0, 0, time.UTC)
		hour := now.Truncate(time.Hour)
		sub, gone := awsSubscription(t, st, now), awsSubscription(t, st, now)
		w := st.Writes(ctx)
		n := 0
		record := func(sub store.Subscription, status string, h time.Time, settled *time.Time) store.MeteringRecord {
			n++
			return store.MeteringRecord{SubscriptionID: sub.ID, Marketplace: "aws", Dimension: fmt.Sprintf("d%d", n), Hour: h, Quantity: 1,
				Status: status, SettledAt: settled, CreatedAt: now, UpdatedAt: now}
		}
		at := func(d time.Duration) *time.Time { t := now.Add(d); return &t }
		var recs []store.MeteringRecord
		for i := 0; i < 40; i++ {
			h := hour.Add(-time.Duration(i) * time.Hour)
			recs = append(recs, record(sub, store.RecordPending, h, nil),
				record(sub, store.RecordAccepted, h, at(-time.Duration(i)*time.Hour+5*time.Minute)),
				record(gone, store.RecordAccepted, h, at(-time.Duration(i)*time.Hour-25*time.Minute)),
				record(sub, store.RecordRejected, h, at(-time.Duration(i)*time.Hour+15*time.Minute)))
		}
		if err := w.CreateMeteringRecordsInBatches(recs); err != nil {
			t.Fatal(err)
		}
		countsAgree(t, st, now, "records stored in batches")

		// One at a time, and a batch whose records exist already (not stored).
		one := record(sub, store.RecordPending, hour.Add(-23*time.Hour), nil)
		if err := st.TestingDB(t).Create(&one).Error; err != nil {
			t.Fatal(err)
		}
		again := recs[:3]
		for i := range again {
			again[i].ID = 0
		}
		if stored, err := w.CreateMeteringRecords(again); err != nil || stored != 0 {
			t.Fatalf("stored %d existing records again (%v)", stored, err)
		}
		countsAgree(t, st, now, "a record stored alone; existing ones not stored again")

		var pending []uint
		if err := st.TestingDB(t).Model(&store.MeteringRecord{}).Where("status = ?", store.RecordPending).Order("id").Pluck("id", &pending).Error; err != nil {
			t.Fatal(err)
		}
		if _, err := w.LeaseRecords(pending, "a", now, now.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		for i, id := range pending[:12] {
			o := store.RecordOutcome{Status: store.RecordAccepted, MarketplaceRecordID: "m"}
			switch i % 4 {
			case 1:
				o = store.RecordOutcome{Status: store.RecordDuplicate, Reason: "twice"}
			case 2:
				o = store.RecordOutcome{Retry: true, NextAttemptAt: now.Add(time.Minute), Reason: "throttled"}
			case 3:
				o = store.RecordOutcome{Status: store.RecordConflict, Reason: "other quantity"}
			}
			if ok, err := w.StoreRecordOutcome(id, "a", o, now.Add(-time.Duration(i)*time.Minute)); err != nil || !ok {
				t.Fatalf("outcome %d: %v %v", i, ok, err)
			}
		}
		countsAgree(t, st, now, "leased, then outcomes stored")

		if ok, err := w.ExpireRecordFrom(pending[20], store.RecordPending, now, "late"); err != nil || !ok {
			t.Fatalf("expire: %v %v", ok, err)
		}
		if made, err := w.MakeRecordsDue(pending[:4], []string{store.RecordAccepted, store.RecordDuplicate}, store.RecordDeadline{}, now); err != nil || made != 2 {
			t.Fatalf("made due %d (%v), want 2", made, err)
		}
		countsAgree(t, st, now, "expired; sent again")

		// Statements of no store method: a settled time moved into another
		// hour and within its hour, an hour moved, a status set by hand.
		db := st.TestingDB(t)
		for _, q := range []struct {
			sql  string
			args []any
		}{
			{"UPDATE metering_records SET settled_at = ? WHERE id = ?", []any{now.Add(-3 * time.Hour), pending[4]}}, // accepted at now-4m
			{"UPDATE metering_records SET settled_at = ? WHERE id = ?", []any{now.Add(-3*time.Hour + time.Minute), pending[4]}},
			{"UPDATE metering_records SET hour = ? WHERE id = ?", []any{hour.Add(-60 * time.Hour), pending[5]}},
			{"UPDATE metering_records SET status = ?, settled_at = ? WHERE status = ? AND hour < ?", []any{store.RecordExpired, now, store.RecordPending, hour.Add(-30 * time.Hour)}},
		} {
			if err := db.Exec(q.sql, q.args...).Error; err != nil {
				t.Fatal(err)
			}
		}
		countsAgree(t, st, now, "statements by hand")

		// A subscription deleted takes its records with it.
		if err := db.Exec("DELETE FROM subscriptions WHERE id = ?", gone.ID).Error; err != nil {
			t.Fatal(err)
		}
		countsAgree(t, st, now, "a subscription deleted")

		removed, err := st.FoldMeteringRecordCounts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		countsAgree(t, st, now, "folded")
		// Folded, a key is one row and no row counts nothing.
		var rows, keys, zero int64
		if err := db.Raw("SELECT COUNT(*) FROM metering_record_counts").Scan(&rows).Error; err != nil {
			t.Fatal(err)
		}
		if err := db.Raw("SELECT COUNT(*) FROM (SELECT 1 FROM metering_record_counts GROUP BY hour, settled_hour, status) k").Scan(&keys).Error; err != nil {
			t.Fatal(err)
		}
		if err := db.Raw("SELECT COUNT(*) FROM metering_record_counts WHERE n = 0").Scan(&zero).Error; err != nil {
			t.Fatal(err)
		}
		if rows != keys || zero != 0 || removed == 0 {
			t.Errorf("after folding: %d rows for %d keys, %d counting nothing, %d removed", rows, keys, zero, removed)
		}
		if again, err := st.FoldMeteringRecordCounts(ctx); err != nil || again != 0 {
			t.Errorf("a second fold removed %d rows (%v), want 0", again, err)
		}
	})
}

// Replicas fold the counts while records are stored and settled: the
// counts stay those of the records (Postgres, where replicas share the
// database; SQLite has one writer).
func TestMeteringRecordCountsFoldedByReplicasAtOnce(t *testing.T) {
	if len(storetest.Dialects()) < 2 {
		t.Skip("Postgres: set " + storetest.PostgresEnv)
	}
	st := storetest.Open(t, store.Postgres)
	ctx := context.Background()
	now := time.Date(2026, 4, 2, 10, 20, 0, 0, time.UTC)
	sub := awsSubscription(t, st, now)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for f := 0; f < 3; f++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := st.FoldMeteringRecordCounts(ctx); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	// Records stored, leased and settled in hours the folds are folding.
	w := st.Writes(ctx)
	for i := 0; i < 60; i++ {
		h := now.Truncate(time.Hour).Add(-time.Duration(i%6) * time.Hour)
		recs := make([]store.MeteringRecord, 10)
		for j := range recs {
			recs[j] = store.MeteringRecord{SubscriptionID: sub.ID, Marketplace: "aws", Dimension: fmt.Sprintf("d%d-%d", i, j), Hour: h, Quantity: 1,
				Status: store.RecordPending, CreatedAt: now, UpdatedAt: now}
		}
		if _, err := w.CreateMeteringRecords(recs); err != nil {
			t.Fatal(err)
		}
		var ids []uint
		if err := st.TestingDB(t).Model(&store.MeteringRecord{}).Where("status = ?", store.RecordPending).Order("id").Limit(7).Pluck("id", &ids).Error; err != nil {
			t.Fatal(err)
		}
		if _, err := w.LeaseRecords(ids, "a", now, now.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		err := st.InTx(ctx, func(tx *store.Tx) error {
			for k, id := range ids {
				status := store.RecordAccepted
				if k%3 == 0 {
					status = store.RecordRejected
				}
				if _, err := tx.StoreRecordOutcome(id, "a", store.RecordOutcome{Status: status}, now.Add(-time.Duration(k*10)*time.Minute)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("fold: %v", err)
	}
	countsAgree(t, st, now, "records stored and settled while three replicas folded")
	if _, err := st.FoldMeteringRecordCounts(ctx); err != nil {
		t.Fatal(err)
	}
	countsAgree(t, st, now, "folded once more")
}

// A database that holds records when it is upgraded gets their counts.
func TestMeteringRecordCountsOfAnUpgradedDatabase(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		now := time.Date(2026, 4, 2, 10, 20, 0, 0, time.UTC)
		sub := awsSubscription(t, st, now)
		db := st.TestingDB(t)
		// As before the migration: no counts table, no triggers.
		drop := []string{"DROP TABLE metering_record_counts", "DELETE FROM schema_migrations WHERE id = '202612050020_metering_record_counts'"}
		if st.Dialect == store.Postgres {
			drop = append([]string{"DROP FUNCTION metering_records_count, metering_records_count_change CASCADE"}, drop...)
		} else {
			drop = append([]string{"DROP TRIGGER metering_records_count_insert", "DROP TRIGGER metering_records_count_update", "DROP TRIGGER metering_records_count_delete"}, drop...)
		}
		for _, q := range drop {
			if err := db.Exec(q).Error; err != nil {
				t.Fatal(err)
			}
		}
		for i, status := range []string{store.RecordPending, store.RecordAccepted, store.RecordAccepted, store.RecordRejected, store.RecordExpired} {
			var settled *time.Time
			if status != store.RecordPending {
				at := now.Add(-time.Duration(i) * 7 * time.Hour)
				settled = &at
			}
			r := store.MeteringRecord{SubscriptionID: sub.ID, Marketplace: "aws", Dimension: "d", Hour: now.Truncate(time.Hour).Add(-time.Duration(i) * 7 * time.Hour),
				Quantity: 1, Status: status, SettledAt: settled, CreatedAt: now, UpdatedAt: now}
			if err := db.Create(&r).Error; err != nil {
				t.Fatal(err)
			}
		}
		if err := st.Migrate(); err != nil {
			t.Fatal(err)
		}
		countsAgree(t, st, now, "upgraded")
	})
}

// TestRecordsListCountsUpToTheCap: a selection the counts table cannot
// answer (here one subscription's records) is counted up to
// store.ListCountCap, or to the end of the page asked for when further,
// and says when more match; a selection of statuses and hours stays exact
// past the cap. Either way the page is the records newest hour first.
func TestRecordsListCountsUpToTheCap(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		now := time.Date(2026, 4, 2, 10, 20, 0, 0, time.UTC)
		sub := awsSubscription(t, st, now)
		// Failed, with one named twice (a URL may).
		failed := []string{store.RecordRejected, store.RecordDuplicate, store.RecordConflict, store.RecordRejected}
		n := store.ListCountCap + 30
		recs := make([]store.MeteringRecord, 0, n)
		for i := 0; i < n; i++ {
			status := store.RecordAccepted
			if i%10 == 3 {
				status = store.RecordRejected
			}
			recs = append(recs, store.MeteringRecord{SubscriptionID: sub.ID, Marketplace: "aws", Dimension: fmt.Sprintf("d%d", i%5),
				Hour: now.Truncate(time.Hour).Add(-time.Duration(i/5) * time.Hour), Quantity: 1, Status: status, CreatedAt: now, UpdatedAt: now})
		}
		if err := st.Writes(ctx).CreateMeteringRecordsInBatches(recs); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			name   string
			f      store.RecordFilter
			total  int64
			capped bool
		}{
			{"one subscription, first page", store.RecordFilter{SubscriptionID: sub.ID, Limit: 50}, store.ListCountCap, true},
			{"one subscription, a page past the cap", store.RecordFilter{SubscriptionID: sub.ID, Limit: 50, Offset: store.ListCountCap}, int64(n), false},
			{"one subscription, a page ending past the cap", store.RecordFilter{SubscriptionID: sub.ID, Limit: 50, Offset: store.ListCountCap - 40}, store.ListCountCap + 10, true},
			{"one marketplace, rejected", store.RecordFilter{Marketplace: "aws", Statuses: []string{store.RecordRejected}, Limit: 50}, int64(n / 10), false},
			{"every record", store.RecordFilter{Limit: 50}, int64(n), false},
			{"rejected", store.RecordFilter{Statuses: []string{store.RecordRejected}, Limit: 50}, int64(n / 10), false},
			{"conflict (none)", store.RecordFilter{Statuses: []string{store.RecordConflict}, Limit: 50}, 0, false},
			{"failed", store.RecordFilter{Statuses: failed, Limit: 50}, int64(n / 10), false},
			{"failed, deep", store.RecordFilter{Statuses: failed, Limit: 50, Offset: 980}, int64(n / 10), false},
			{"failed, one marketplace", store.RecordFilter{Statuses: failed, Marketplace: "aws", Limit: 50, Offset: 100}, int64(n / 10), false},
		} {
			page, err := st.ListRecords(ctx, c.f)
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			if page.Total != c.total || page.TotalCapped != c.capped {
				t.Errorf("%s: total %d (capped %v), want %d (capped %v)", c.name, page.Total, page.TotalCapped, c.total, c.capped)
			}
			want := min(c.f.Limit, max(int(c.total)-c.f.Offset, 0))
			if len(page.Items) != want {
				t.Errorf("%s: %d records on the page, want %d", c.name, len(page.Items), want)
			}
			for i := 1; i < len(page.Items); i++ {
				a, b := page.Items[i-1], page.Items[i]
				if a.Hour.Before(b.Hour) || (a.Hour.Equal(b.Hour) && a.ID < b.ID) {
					t.Fatalf("%s: record %d (%s) before record %d (%s): not newest first", c.name, a.ID, a.Hour, b.ID, b.Hour)
				}
			}
			// The page is the one a plain query gives.
			q := st.TestingDB(t).Model(&store.MeteringRecord{})
			if len(c.f.Statuses) > 0 {
				q = q.Where("status IN ?", c.f.Statuses)
			}
			var ids []uint
			if err := q.Order("hour DESC, id DESC").Limit(c.f.Limit).Offset(c.f.Offset).Pluck("id", &ids).Error; err != nil {
				t.Fatal(err)
			}
			got := make([]uint, len(page.Items))
			for i, r := range page.Items {
				got[i] = r.ID
			}
			if !slices.Equal(got, ids) {
				t.Errorf("%s: the page holds records %v, want %v", c.name, got, ids)
			}
		}
	})
}
