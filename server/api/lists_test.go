package api_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/marketgate/marketgate/store"
	"github.com/marketgate/marketgate/store/storetest"
)

// TestLogListsCountUpToTheCap: past store.ListCountCap the notification
// log, the audit log and a webhook endpoint's deliveries answer total =
// the cap and total_capped (more
// match, so a next page exists), a page ending past the cap counts to its
// end, a narrow selection (a key's part, even of two characters; one
// target) is counted exactly, and the audit log's CSV export holds every
// entry, not the cap's worth.
func TestLogListsCountUpToTheCap(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, nil)
		e.user("admin@seller.com", store.RoleAdmin, nil)
		admin := e.login("admin@seller.com")
		n := store.ListCountCap + 20
		base := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
		inbox := make([]store.InboxMessage, n)
		audit := make([]store.AuditEntry, n)
		for i := range n {
			at := base.Add(time.Duration(i) * time.Minute)
			inbox[i] = store.InboxMessage{Marketplace: "azure", Source: "azure_webhook", DedupKey: fmt.Sprintf("op-%05d", i), Action: "ChangeQuantity",
				Body: "{}", Status: store.InboxProcessed, ReceivedAt: at}
			audit[i] = store.AuditEntry{At: at, ActorEmail: "alice@seller.example", Action: "seat.assign", TargetType: "subscription", TargetID: fmt.Sprint(i % 100)}
		}
		inbox[4321].DedupKey = "op-zq" // the one key with "zq"
		db := st.TestingDB(t)
		if err := db.CreateInBatches(inbox, 500).Error; err != nil {
			t.Fatal(err)
		}
		if err := db.CreateInBatches(audit, 500).Error; err != nil {
			t.Fatal(err)
		}
		// An endpoint's deliveries, one in 100 failed.
		ep := store.WebhookEndpoint{URL: "https://app.example/hooks", Secret: "whsec_x", EventTypes: "*", CreatedAt: base, UpdatedAt: base}
		if err := db.Create(&ep).Error; err != nil {
			t.Fatal(err)
		}
		events := make([]store.Event, n)
		for i := range n {
			events[i] = store.Event{EventID: fmt.Sprintf("evt_%05d", i), Type: "seat.assigned", OccurredAt: base, Data: "{}", CreatedAt: base}
		}
		if err := db.CreateInBatches(events, 500).Error; err != nil {
			t.Fatal(err)
		}
		deliveries := make([]store.WebhookDelivery, n)
		for i := range n {
			status := store.DeliverySucceeded
			if i%100 == 42 {
				status = store.DeliveryFailed
			}
			deliveries[i] = store.WebhookDelivery{EndpointID: ep.ID, EventID: events[i].ID, Status: status, NextAttemptAt: base, CreatedAt: base}
		}
		if err := db.CreateInBatches(deliveries, 500).Error; err != nil {
			t.Fatal(err)
		}
		hooks := fmt.Sprintf("/api/webhooks/%d/deliveries", ep.ID)
		folds := int64(1) // the search's LIKE ignores ASCII case on SQLite, not on Postgres
		if st.Dialect == store.Postgres {
			folds = 0
		}
		type list struct {
			Items       []struct{ ID uint }
			Total       int64
			TotalCapped bool `json:"total_capped"`
		}
		for _, c := range []struct {
			path   string
			total  int64
			capped bool
			items  int
		}{
			{"/api/inbox?limit=50", store.ListCountCap, true, 50},
			{fmt.Sprintf("/api/inbox?limit=50&offset=%d", store.ListCountCap-10), int64(n), false, 30},
			{"/api/inbox?q=op-0999", 10, false, 10}, // op-09990 … op-09999
			{"/api/inbox?q=zq", 1, false, 1},
			{"/api/inbox?q=ZQ", folds, false, int(folds)},
			{"/api/audit?limit=50", store.ListCountCap, true, 50},
			{"/api/audit?actor=ALICE&limit=50", store.SearchCountCap, true, 50}, // (a LIKE on each entry counted)
			{"/api/audit?action=seat.&limit=50", store.SearchCountCap, true, 50},
			{fmt.Sprintf("/api/audit?actor=alice&limit=50&offset=%d", store.ListCountCap-10), int64(n), false, 30},
			{"/api/audit?target_type=subscription&target_id=42&limit=200", int64(n / 100), false, n / 100},
			{hooks + "?limit=50", store.ListCountCap, true, 50},
			{hooks + "?status=failed&limit=200", int64(n / 100), false, n / 100},
			{fmt.Sprintf("%s?limit=50&offset=%d", hooks, store.ListCountCap), int64(n), false, 20},
		} {
			var got list
			admin.get(c.path).json(t, &got)
			if got.Total != c.total || got.TotalCapped != c.capped || len(got.Items) != c.items {
				t.Errorf("%s: total %d (capped %v), %d items; want %d (capped %v), %d", c.path, got.Total, got.TotalCapped, len(got.Items), c.total, c.capped, c.items)
			}
		}
		r := admin.get("/api/audit?format=csv&action=seat.assign")
		if lines := strings.Count(string(r.body), "\n"); r.code != 200 || lines != n+1 {
			t.Errorf("audit CSV: %d, %d lines; want every entry and the header, %d", r.code, lines, n+1)
		}
	})
}
