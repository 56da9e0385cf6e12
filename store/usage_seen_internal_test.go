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

// The sweep drops the ids past the dedup window and keeps every other:
// old and new ids interleaved, so that deleting the old ones moves new
// ones within their tables, and each new one is still found after.
func TestUsageSeenSweepKeepsTheWindow(t *testing.T) {
	now := time.Date(2026, 12, 4, 6, 0, 0, 0, time.UTC)
	var s UsageSeen
	s.reset(now)
	old, fresh := keyMinute(now.Add(-usageDedupBack-usageDedupAhead-time.Minute)), keyMinute(now)
	var keep []string
	for i := 0; i < 20000; i++ {
		id := fmt.Sprintf("ev-%d", i)
		if i%2 == 0 {
			s.add(id, int64(i+1), old)
		} else {
			s.add(id, int64(i+1), fresh)
			keep = append(keep, id)
		}
	}
	s.more[s.hash("ev-1")] = append(s.more[s.hash("ev-1")], seenRow{99999, old}) // a collision past the window
	s.sweep(now.Add(usageSweepEvery))
	if s.Len() != len(keep) {
		t.Fatalf("%d ids held after the sweep, want %d", s.Len(), len(keep))
	}
	for i, id := range keep {
		got, _ := s.candidates([]string{id}, now)
		if want := int64(2*i + 2); !slices.Equal(got, []int64{want}) {
			t.Fatalf("%s: rows %v, want [%d]", id, got, want)
		}
	}
	if got, _ := s.candidates([]string{"ev-0", "ev-2"}, now.Add(-time.Hour)); len(got) != 0 {
		t.Fatalf("swept ids still found: %v", got)
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
	s.rows.put(hc, va)
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

// BenchmarkUsageSeenLookups is the set's part of ingesting a new event
// when it already holds four million ids (a day at 50 events/s, a few
// minutes at the benchmark's rates): the repeat check of a group of 8,000
// ids, then, after the commit, storing them, as the writer does. Between
// the two (untimed) it reads 64 MB, as the commit's work would, so the
// store finds the set's slots out of the caches as the writer does. Per
// event.
func BenchmarkUsageSeenLookups(b *testing.B) {
	now := time.Now().UTC()
	const held, group = 4_000_000, 8000
	var s UsageSeen
	s.reset(now)
	s.loaded = true
	key := keyMinute(now)
	id := func(i int) string {
		return fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", i*2654435761, i%65536, i%4096, i%4095, i*40503)
	}
	for i := 0; i < held; i++ {
		s.add(id(i), int64(i+1), key)
	}
	ids := make([]string, group)
	evs := make([]NewUsageEvent, group)
	rows := make([]int64, group)
	other := make([]byte, 64<<20)
	next, sum := held, 0
	b.ResetTimer()
	for n := 0; n < b.N; n += group {
		b.StopTimer()
		for i := range ids {
			ids[i] = id(next + i)
			evs[i], rows[i] = NewUsageEvent{EventID: ids[i], OccurredAt: now}, int64(next+i+1)
		}
		b.StartTimer()
		if found, _ := s.candidates(ids, now); len(found) != 0 {
			b.Fatalf("%d new ids found", len(found))
		}
		b.StopTimer()
		for i := 0; i < len(other); i += 64 {
			other[i]++
			sum += int(other[i])
		}
		b.StartTimer()
		s.Stored(evs, rows, now)
		next += group
	}
	b.StopTimer()
	if s.Len() != next {
		b.Fatalf("%d ids held, want %d (%d)", s.Len(), next, sum)
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
