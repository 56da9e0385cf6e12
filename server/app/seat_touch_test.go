package app

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/marketgate/marketgate/store"
)

// A seat check queues the seat's last-checked time and writes it in a
// batch (a few thousand seats, or every few seconds; the first one at
// once): a graceful stop writes what is still queued before it closes
// the database, so a restart loses none of them.
func TestStopWritesQueuedSeatChecks(t *testing.T) {
	dir := t.TempDir()
	cfg := load(t, envOf(), "--addr", "127.0.0.1:0", "--data-dir", dir, "--log-level", "warn")
	r, err := Start(context.Background(), cfg, IO{Stdout: io.Discard, Stderr: io.Discard, Env: envOf()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Stop() })
	ctx := context.Background()
	then := time.Now().UTC().Add(-48 * time.Hour)
	const tenant = "8fd4e52e-4f77-421f-a07f-aac2e189eecc"
	db := r.Store.TestingDB(t)
	o := store.Offer{Marketplace: "azure", Name: "Seats", MarketplaceID: "seats-offer", CreatedAt: then, UpdatedAt: then,
		Plans: []store.Plan{{PlanID: "per-user", Name: "Per user", SeatBased: true, Dimensions: "[]", ActivationPolicy: "automatic", CreatedAt: then, UpdatedAt: then}}}
	if err := db.Create(&o).Error; err != nil {
		t.Fatal(err)
	}
	c := store.Customer{Name: "Contoso", AzureTenantID: tenant, CreatedAt: then, UpdatedAt: then}
	if err := db.Create(&c).Error; err != nil {
		t.Fatal(err)
	}
	sub := store.Subscription{Marketplace: "azure", State: "active", StateChangedAt: then, CustomerID: &c.ID, OfferID: &o.ID, PlanID: &o.Plans[0].ID,
		Quantity: 5, AzureSubscriptionID: "seats-sub", Version: 1, CreatedAt: then, UpdatedAt: then}
	if err := db.Create(&sub).Error; err != nil {
		t.Fatal(err)
	}
	users := []string{"ann@contoso.example", "bob@contoso.example", "cy@contoso.example"}
	var ids []uint
	for _, u := range users {
		seat := store.Seat{SubscriptionID: sub.ID, CustomerID: &c.ID, Email: u, Source: "manual", AssignedAt: then}
		if err := db.Create(&seat).Error; err != nil {
			t.Fatal(err)
		}
		ids = append(ids, seat.ID)
	}
	const key = "mgk_test_seat_touch_0123456789abcdef"
	if err := r.Store.CreateAPIKey(ctx, &store.APIKey{Name: "app", Prefix: key[:8], Scopes: "seats"}, key); err != nil {
		t.Fatal(err)
	}
	for _, u := range users {
		req, _ := http.NewRequest(http.MethodGet, r.URL+"/api/v1/seats/check?tenant_id="+tenant+"&email="+u, nil)
		req.Header.Set("Authorization", "Bearer "+key)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK || !strings.Contains(string(body), `"licensed":true`) {
			t.Fatalf("the seat check of %s: %d %s", u, res.StatusCode, body)
		}
	}
	if err := r.Stop(); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(ctx, store.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for i, id := range ids {
		var got store.Seat
		if err := st.TestingDB(t).First(&got, id).Error; err != nil {
			t.Fatal(err)
		}
		if got.LastCheckedAt == nil {
			t.Errorf("after a graceful stop %s's seat has no last-checked time", users[i])
		}
	}
}
