package store_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/marketgate/marketgate/store"
	"github.com/marketgate/marketgate/store/storetest"
)

// TestInboxSearchFindsPartsOfKeys: the notification log's search finds the
// messages whose key holds the text, as LIKE '%text%' did (ASCII letters in
// either case; % and _ as themselves), while the messages are queued for
// the keys' index (stored by ReceiveInbox or behind the store's back) and
// once indexed (IndexPendingInboxKeys, the server's job, and Migrate).
func TestInboxSearchFindsPartsOfKeys(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		at := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
		var keys []string
		for i := 0; i < 400; i++ {
			key := fmt.Sprintf("event:%08X-7c1e-4b%03d-a000-%012x", i*2654435761%(1<<32), i, i*7919)
			if i%100 == 3 {
				key = fmt.Sprintf("landing:50%%_off-%d", i) // % and _ in a key
			}
			keys = append(keys, key)
			m := &store.InboxMessage{Marketplace: "aws", Source: "aws_sqs", DedupKey: key, Action: "Suspend", Body: "{}", Status: store.InboxReceived, ReceivedAt: at.Add(time.Duration(i) * time.Minute)}
			if i%2 == 0 {
				if _, _, err := st.ReceiveInbox(ctx, m); err != nil {
					t.Fatal(err)
				}
			} else if err := st.TestingDB(t).Create(m).Error; err != nil { // behind the store's back
				t.Fatal(err)
			}
		}
		terms := []string{"7C1E-4B1", "7c1e-4b1", "event:", "a000-0000", "-4b077-", "50%_off", "%_o", "0%", "_o", keys[17], keys[17][3:20], "no such key", "zz",
			"%", "_", "q", "7C", "b1"} // (one and two characters: short grams)
		search := func(step string) {
			t.Helper()
			for _, term := range terms {
				page, err := st.ListInbox(ctx, store.InboxFilter{Q: term, Limit: 500})
				if err != nil {
					t.Fatal(err)
				}
				var got, want []string
				for _, m := range page.Items {
					got = append(got, m.DedupKey)
				}
				for _, k := range keys {
					hold := strings.Contains(strings.ToLower(k), strings.ToLower(term))
					if st.Dialect == store.Postgres {
						hold = strings.Contains(k, term) // (LIKE is case-sensitive there)
					}
					if hold {
						want = append(want, k)
					}
				}
				slices.Sort(got)
				slices.Sort(want)
				if !slices.Equal(got, want) || page.Total != int64(len(want)) {
					t.Errorf("%s: %q finds %v (total %d), want %v", step, term, got, page.Total, want)
				}
			}
		}
		search("received and written behind the store's back, queued")
		if _, err := st.IndexPendingInboxKeys(ctx); err != nil {
			t.Fatal(err)
		}
		search("indexed")
		for i := 400; i < 420; i++ { // more, queued beside the indexed ones
			key := fmt.Sprintf("event:late-%d", i)
			keys = append(keys, key)
			if _, _, err := st.ReceiveInbox(ctx, &store.InboxMessage{Marketplace: "aws", Source: "aws_sqs", DedupKey: key, Body: "{}", ReceivedAt: at}); err != nil {
				t.Fatal(err)
			}
		}
		terms = append(terms, "late-41")
		search("indexed and queued")
		if err := st.Migrate(); err != nil {
			t.Fatal(err)
		}
		search("all indexed")
		// A key changed behind the store's back is queued again.
		if err := st.TestingDB(t).Model(&store.InboxMessage{}).Where("dedup_key = ?", keys[0]).Update("dedup_key", "renamed-key").Error; err != nil {
			t.Fatal(err)
		}
		keys[0] = "renamed-key"
		terms = append(terms, "renamed")
		search("a key changed")
	})
}

// TestShortTermsAfterUpgrade: a database indexed before the text indexes
// held short grams (migration 202612050080_short_grams) finds terms of one
// and two characters through them once migrated, as LIKE '%term%' did:
// every subscription and message is indexed again.
func TestShortTermsAfterUpgrade(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		subs := searchCorpus(t, st)
		at := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
		var keys []string
		for i := 0; i < 50; i++ {
			key := fmt.Sprintf("event:%04d-%x", i, i*7919)
			if i == 17 {
				key = "event:ZQ-17" // the one key with "zq" (in either case)
			}
			keys = append(keys, key)
			if _, _, err := st.ReceiveInbox(ctx, &store.InboxMessage{Marketplace: "aws", Source: "aws_sqs", DedupKey: key, Body: "{}", ReceivedAt: at.Add(time.Duration(i) * time.Minute)}); err != nil {
				t.Fatal(err)
			}
		}
		if err := st.Migrate(); err != nil { // (indexes what is queued)
			t.Fatal(err)
		}
		inbox := func(q string) []string {
			t.Helper()
			page, err := st.ListInbox(ctx, store.InboxFilter{Q: q, Limit: 100})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, m := range page.Items {
				got = append(got, m.DedupKey)
			}
			slices.Sort(got)
			return got
		}
		if st.Dialect == store.SQLite {
			// As indexed before: documents without short grams.
			for _, stmt := range []string{"UPDATE subscription_search SET bi = ''", "UPDATE inbox_key_search SET short = ''",
				"DELETE FROM schema_migrations WHERE id = '202612050080_short_grams'"} {
				if err := st.TestingDB(t).Exec(stmt).Error; err != nil {
					t.Fatal(err)
				}
			}
			if got := inbox("zq"); len(got) != 0 {
				t.Fatalf("before the migration %q finds %v (is the stale index read?)", "zq", got)
			}
			if got := searchIDs(t, st, "59", store.SubscriptionFilter{}); len(got) != 0 {
				t.Fatalf("before the migration %q finds subscriptions %v", "59", got)
			}
		}
		compare := func(when string) {
			t.Helper()
			for _, q := range []string{"59", "ab", "a", "田", "&", "ï"} {
				if want, got := likeIDs(subs, q), searchIDs(t, st, q, store.SubscriptionFilter{}); !slices.Equal(want, got) {
					t.Errorf("%s, %q: want subscriptions %v, got %v", when, q, want, got)
				}
			}
			for _, q := range []string{"zq", "ZQ", "Q", "-1", "7", ":"} {
				var want []string
				for _, k := range keys {
					if strings.Contains(strings.ToLower(k), strings.ToLower(q)) && (st.Dialect == store.SQLite || strings.Contains(k, q)) {
						want = append(want, k)
					}
				}
				slices.Sort(want)
				if got := inbox(q); !slices.Equal(want, got) {
					t.Errorf("%s, %q: want messages %v, got %v", when, q, want, got)
				}
			}
		}
		// serve migrates the schema and starts; its jobs index what the
		// migration queued. Meanwhile a search tests the queued rows.
		if err := st.MigrateSchema(); err != nil {
			t.Fatal(err)
		}
		queued := func() (n int64) {
			t.Helper()
			if st.Dialect == store.SQLite {
				if err := st.TestingDB(t).Raw("SELECT (SELECT count(*) FROM subscription_search_dirty) + (SELECT count(*) FROM inbox_key_dirty)").Scan(&n).Error; err != nil {
					t.Fatal(err)
				}
			}
			return n
		}
		if n, want := queued(), int64(len(subs)+len(keys)); st.Dialect == store.SQLite && n != want {
			t.Fatalf("after the schema's migration %d rows queued, want every subscription and message (%d)", n, want)
		}
		compare("before indexing the queue")
		n, err := st.IndexPending(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if left := queued(); left != 0 || (st.Dialect == store.SQLite && n != len(subs)+len(keys)) {
			t.Fatalf("IndexPending indexed %d rows and left %d queued", n, left)
		}
		compare("once indexed")
	})
}
