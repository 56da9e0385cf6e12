package store

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"testing"
	"time"
)

// A row packs into 64 bits and back, at the edges of what fits; one that
// does not fit is still held (in the list of more) and still found.
func TestUsageSeenPacksRows(t *testing.T) {
	now := time.Date(2026, 12, 4, 6, 0, 0, 0, time.UTC)
	for _, r := range []seenRow{{1, keyMinute(now)}, {1<<39 - 1, packKeyBase}, {0, packKeyBase + 1<<packKeyBits - 1}} {
		v, ok := pack(r)
		if !ok || unpack(v) != r {
			t.Errorf("%+v packs to %x (%v), unpacks to %+v", r, v, ok, unpack(v))
		}
	}
	for _, r := range []seenRow{{1 << 39, keyMinute(now)}, {1, packKeyBase - 1}, {1, packKeyBase + 1<<packKeyBits}} {
		if _, ok := pack(r); ok {
			t.Errorf("%+v packs", r)
		}
	}
	var s UsageSeen
	s.reset(now)
	s.add("big", 1<<40, keyMinute(now))
	s.add("small", 7, keyMinute(now))
	got, _ := s.candidates([]string{"big", "small", "none"}, now)
	slices.Sort(got)
	if !slices.Equal(got, []int64{7, 1 << 40}) || s.Len() != 2 {
		t.Fatalf("candidates %v, %d held", got, s.Len())
	}
}

// Two ids whose hashes collide: the set points each at both rows, and
// the lookup answers each id only with the row that holds it (compared
// by the id itself, not the hash).
func TestUsageSeenComparesTheIDNotTheHash(t *testing.T) {
	ctx := context.Background()
	st := openMigrated(t)
	now := time.Now().UTC()
	var s UsageSeen
	var us UsageStatements
	var rows []int64
	evs := []NewUsageEvent{{EventID: "a", Status: UsageAccepted, OccurredAt: now, Source: "api"}, {EventID: "b", Status: UsageRejected, OccurredAt: now, Source: "api"}}
	if err := st.InTx(ctx, func(tx *Tx) error {
		if err := tx.SyncUsageSeen(ctx, nil, &s, now); err != nil {
			return err
		}
		var err error
		rows, err = tx.InsertUsageEvents(ctx, &us, evs, now)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	s.Stored(evs, rows, now)
	// Make "c" collide with "a" and "b": its hash now points at both rows.
	hc := s.hash("c")
	va, _ := pack(seenRow{rows[0], keyMinute(now)})
	s.rows[hc] = va
	s.more[hc] = []seenRow{{rows[1], keyMinute(now)}}
	if err := st.InTx(ctx, func(tx *Tx) error {
		prior, err := tx.UsageEventsByID(ctx, &s, []string{"a", "b", "c"}, now)
		if err != nil {
			return err
		}
		if len(prior) != 2 || prior["a"].Status != UsageAccepted || prior["b"].Status != UsageRejected {
			return fmt.Errorf("prior %+v", prior)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkUsageSeenMemory reports the memory one id costs the set (the
// Go heap after adding a million ids, per id).
func BenchmarkUsageSeenMemory(b *testing.B) {
	now := time.Now().UTC()
	const n = 1_000_000
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", i*2654435761, i%65536, i%4096, i%4095, i*40503)
	}
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		var s UsageSeen
		s.reset(now)
		for i, id := range ids {
			s.add(id, int64(i+1), keyMinute(now))
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "bytes/id")
		runtime.KeepAlive(&s)
	}
}

// openMigrated opens a migrated SQLite store in a temporary directory,
// closed when the test ends (the internal tests cannot use storetest,
// which imports this package).
func openMigrated(t *testing.T) *Store {
	t.Helper()
	st, err := Open(context.Background(), Config{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(); err != nil {
		t.Fatal(err)
	}
	return st
}
