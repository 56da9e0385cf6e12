package store_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/marketgate/marketgate/store"
	"github.com/marketgate/marketgate/store/storetest"
)

// TestLogsCountUpToTheCap: the notification log and the audit log count
// what they select up to store.ListCountCap (or to the end of the page
// asked for when further) and say when more match; a selection within the
// cap is counted exactly; pages are newest first, and one target's audit
// entries (by their own index) are its own, as are the messages whose key
// holds a search's text.
func TestLogsCountUpToTheCap(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		db := st.TestingDB(t)
		base := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
		n := store.ListCountCap + 20
		inbox := make([]store.InboxMessage, n)
		audit := make([]store.AuditEntry, n)
		unsubscribes, of42, with999 := 0, 0, 0
		for i := range n {
			if strings.Contains(fmt.Sprintf("op-%d", i), "-999") {
				with999++
			}
			action, status := "ChangeQuantity", store.InboxProcessed
			if i%50 == 7 {
				action, status = "Unsubscribe", store.InboxFailed
				unsubscribes++
			}
			if i%100 == 42 {
				of42++
			}
			at := base.Add(time.Duration(i) * time.Minute)
			inbox[i] = store.InboxMessage{Marketplace: "azure", Source: "azure_webhook", DedupKey: fmt.Sprintf("op-%d", i), Action: action,
				Body: "{}", Status: status, ReceivedAt: at}
			audit[i] = store.AuditEntry{At: at, ActorEmail: "alice@seller.example", Action: "seat.assign", TargetType: "subscription", TargetID: fmt.Sprint(i % 100)}
		}
		if err := db.CreateInBatches(inbox, 500).Error; err != nil {
			t.Fatal(err)
		}
		if err := db.CreateInBatches(audit, 500).Error; err != nil {
			t.Fatal(err)
		}
		type want struct {
			total  int64
			capped bool
			items  int
		}
		check := func(name string, total int64, capped bool, items int, w want) {
			t.Helper()
			if total != w.total || capped != w.capped || items != w.items {
				t.Errorf("%s: total %d (capped %v), %d on the page; want %d (capped %v), %d", name, total, capped, items, w.total, w.capped, w.items)
			}
		}
		for _, c := range []struct {
			name string
			f    store.InboxFilter
			want want
		}{
			{"every message", store.InboxFilter{Limit: 50}, want{store.ListCountCap, true, 50}},
			{"a page ending past the cap", store.InboxFilter{Limit: 50, Offset: store.ListCountCap - 10}, want{store.ListCountCap + 20, false, 30}},
			{"one action", store.InboxFilter{Action: "Unsubscribe", Limit: 50}, want{int64(unsubscribes), false, 50}},
			{"failed", store.InboxFilter{Status: store.InboxFailed, Limit: 500}, want{int64(unsubscribes), false, unsubscribes}},
			// Part of a key (on Postgres by the keys' trigram index).
			{"part of a key", store.InboxFilter{Q: "-999", Limit: 50}, want{int64(with999), false, with999}},
			{"a whole key", store.InboxFilter{Q: "op-1234", Limit: 50}, want{1, false, 1}},
		} {
			page, err := st.ListInbox(ctx, c.f)
			if err != nil {
				t.Fatal(err)
			}
			check("inbox, "+c.name, page.Total, page.TotalCapped, len(page.Items), c.want)
			for i, m := range page.Items {
				if c.f.Q != "" && !strings.Contains(m.DedupKey, c.f.Q) {
					t.Fatalf("inbox, %s: message %q", c.name, m.DedupKey)
				}
				if c.f.Action != "" && m.Action != c.f.Action {
					t.Fatalf("inbox, %s: a %s message", c.name, m.Action)
				}
				if i > 0 && m.ReceivedAt.After(page.Items[i-1].ReceivedAt) {
					t.Fatalf("inbox, %s: not newest first", c.name)
				}
			}
		}
		for _, c := range []struct {
			name string
			f    store.AuditFilter
			want want
		}{
			{"every entry", store.AuditFilter{Limit: 50}, want{store.ListCountCap, true, 50}},
			{"one target", store.AuditFilter{TargetType: "subscription", TargetID: "42", Limit: 200}, want{int64(of42), false, of42}},
			// (A LIKE on each entry counted: to SearchCountCap.)
			{"one actor", store.AuditFilter{Actor: "alice", Limit: 50}, want{store.SearchCountCap, true, 50}},
		} {
			page, err := st.ListAudit(ctx, c.f)
			if err != nil {
				t.Fatal(err)
			}
			check("audit, "+c.name, page.Total, page.TotalCapped, len(page.Items), c.want)
			for i, e := range page.Items {
				if c.f.TargetID != "" && e.TargetID != c.f.TargetID {
					t.Fatalf("audit, %s: an entry of target %s", c.name, e.TargetID)
				}
				if i > 0 && e.At.After(page.Items[i-1].At) {
					t.Fatalf("audit, %s: not newest first", c.name)
				}
			}
		}
	})
}
