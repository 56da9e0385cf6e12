package store

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"
)

// TestTextIndexesMerge: indexed a few at a time, as the server's jobs do,
// the keys' index piles up segments, each one a look-up of every token;
// merged, at most one is left on each level, and every search finds what
// it found before. (SQLite: Postgres has no such segments.)
func TestTextIndexesMerge(t *testing.T) {
	ctx := context.Background()
	st := openMigrated(t)
	if st.Dialect != SQLite {
		t.Skip("FTS4 segments: SQLite only")
	}
	at := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
	for round := 0; round < 40; round++ {
		for i := 0; i < 10; i++ {
			key := fmt.Sprintf("%08x-4000-a000-%012x", round*7919+i*104729, round*10+i)
			if _, _, err := st.ReceiveInbox(ctx, &InboxMessage{Marketplace: "aws", Source: "aws_sqs", DedupKey: key, Body: "{}", ReceivedAt: at}); err != nil {
				t.Fatal(err)
			}
			at = at.Add(time.Second)
		}
		if _, err := st.IndexPendingInboxKeys(ctx); err != nil {
			t.Fatal(err)
		}
	}
	segments := func() (n int, levels int) {
		t.Helper()
		if err := st.r.Raw("SELECT count(*), count(DISTINCT level) FROM inbox_key_search_segdir").Row().Scan(&n, &levels); err != nil {
			t.Fatal(err)
		}
		return n, levels
	}
	terms := []string{"a000-0000000001", "0000000000ff", "-4000-", "00c", "1d"}
	found := func() map[string][]uint {
		t.Helper()
		out := map[string][]uint{}
		for _, q := range terms {
			page, err := st.ListInbox(ctx, InboxFilter{Q: q, Limit: 1000})
			if err != nil {
				t.Fatal(err)
			}
			out[q] = messageIDs(page.Items)
		}
		return out
	}
	before, _ := segments()
	if before < 8 {
		t.Fatalf("%d segments before merging: the test indexes too few batches to pile them up", before)
	}
	want := found()
	steps, err := st.MergeInboxKeyIndex(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	after, levels := segments()
	t.Logf("%d segments, merged in %d steps: %d on %d levels", before, steps, after, levels)
	if steps == 0 || after != levels {
		t.Errorf("merged in %d steps: %d segments on %d levels (from %d)", steps, after, levels, before)
	}
	got := found()
	for _, q := range terms {
		if len(want[q]) == 0 || !slices.Equal(got[q], want[q]) {
			t.Errorf("%q: found %v before merging, %v after", q, want[q], got[q])
		}
	}
	// Nothing left: a second run takes no step.
	if steps, err := st.MergeInboxKeyIndex(ctx, 0); err != nil || steps != 0 {
		t.Errorf("merged again: %d steps, %v", steps, err)
	}
}
