package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/marketgate/marketgate/server/api"
	"github.com/marketgate/marketgate/server/auth"
	"github.com/marketgate/marketgate/store"
	"github.com/marketgate/marketgate/store/storetest"
)

// benchSeed bulk-loads n subscriptions over n/5 customers, spread over both
// marketplaces, every state, four offers and a year of creation times.
func benchSeed(b *testing.B, st *store.Store, n int) {
	b.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	states := []string{"active", "active", "active", "active", "pending", "suspended", "unsubscribe_pending", "ended", "ended", "failed"}
	err := st.TestingDB(b).Transaction(func(tx *gorm.DB) error {
		var offers []store.Offer
		for i, mp := range []string{"aws", "aws", "azure", "azure"} {
			o := store.Offer{Marketplace: mp, Name: fmt.Sprintf("Offer %d", i), MarketplaceID: fmt.Sprintf("offer-%d", i),
				CreatedAt: now, UpdatedAt: now,
				Plans: []store.Plan{{PlanID: "a", Name: "A", Dimensions: "[]", ActivationPolicy: "automatic", CreatedAt: now, UpdatedAt: now},
					{PlanID: "b", Name: "B", Dimensions: "[]", ActivationPolicy: "automatic", CreatedAt: now, UpdatedAt: now}}}
			if err := tx.Create(&o).Error; err != nil {
				return err
			}
			offers = append(offers, o)
		}
		customers := make([]store.Customer, n/5)
		for i := range customers {
			customers[i] = store.Customer{Name: fmt.Sprintf("Customer %05d %s", i, []string{"Contoso", "Fabrikam", "Northwind", "Litware"}[i%4]),
				Email: fmt.Sprintf("it@c%05d.example", i), AWSAccountID: fmt.Sprintf("%012d", i), CreatedAt: now, UpdatedAt: now}
		}
		if err := tx.CreateInBatches(customers, 500).Error; err != nil {
			return err
		}
		batch := make([]store.Subscription, 0, 500)
		for i := 0; i < n; i++ {
			c := &customers[rng.IntN(len(customers))]
			o := &offers[rng.IntN(len(offers))]
			p := &o.Plans[rng.IntN(2)]
			created := now.Add(-time.Duration(rng.IntN(365*24*3600)) * time.Second)
			s := store.Subscription{Marketplace: o.Marketplace, State: states[rng.IntN(len(states))], StateChangedAt: created,
				Name: c.Name + " " + o.Name, CustomerID: &c.ID, OfferID: &o.ID, PlanID: &p.ID, Quantity: rng.IntN(500),
				Version: 1, CreatedAt: created, UpdatedAt: created.Add(time.Duration(rng.IntN(1000)) * time.Hour)}
			if o.Marketplace == "aws" {
				s.AWSCustomerAccountID = c.AWSAccountID
				s.AWSLicenseArn = fmt.Sprintf("arn:aws:license-manager::%s:license:l-%016x", c.AWSAccountID, i)
			} else {
				s.AzureSubscriptionID = fmt.Sprintf("%08x-0000-4000-a000-%012x", i, i)
			}
			s.SearchText = store.SearchTextFor(&s, c)
			batch = append(batch, s)
			if len(batch) == cap(batch) || i == n-1 {
				if err := tx.Omit("Customer", "Offer", "Plan").Create(&batch).Error; err != nil {
					return err
				}
				batch = batch[:0]
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := st.IndexPendingSearch(context.Background()); err != nil {
		b.Fatal(err)
	}
	if err := st.TestingDB(b).Exec("ANALYZE").Error; err != nil {
		b.Fatal(err)
	}
}

// BenchmarkListSubscriptions measures GET /api/subscriptions through the
// whole HTTP stack (session, query, JSON) on SQLite with 100,000 rows.
func BenchmarkListSubscriptions(b *testing.B) {
	st := storetest.Open(b, store.SQLite)
	benchSeed(b, st, 100000)
	hash, _ := auth.HashPassword("benchmark-password")
	if err := st.CreateUser(context.Background(), &store.User{Email: "bench@example.com", Role: store.RoleAdmin, PasswordHash: hash}); err != nil {
		b.Fatal(err)
	}
	h, err := api.New(api.Deps{Store: st, Sessions: auth.NewSessionStore(st, []byte(strings.Repeat("k", 64)), false, time.Hour),
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodPost, "/api/auth/login", strings.NewReader(`{"email":"bench@example.com","password":"benchmark-password"}`))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		b.Fatalf("login: %d %s", rec.Code, rec.Body)
	}
	cookie := rec.Result().Cookies()[0]
	// The cursor of the page after the first 20,000 active rows (what the
	// portal's list, which pages by cursor, asks for that deep).
	req = httptest.NewRequest(http.MethodGet, "/api/subscriptions?state=active&sort=created_at&limit=50&offset=19950", nil)
	req.AddCookie(cookie)
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var deep struct {
		NextCursor string `json:"next_cursor"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &deep); err != nil || deep.NextCursor == "" {
		b.Fatalf("deep cursor: %v %s", err, rec.Body)
	}
	deepCursor := url.QueryEscape(deep.NextCursor)

	cases := []struct{ name, query string }{
		{"page50_default", "limit=50"},
		{"filtered_sorted_page50", "marketplace=aws&state=active&sort=-updated_at&limit=50"},
		{"filtered_offer_plan_page50", "offer=2&plan=3&sort=-quantity&limit=50"},
		{"deep_offset_page50", "state=active&sort=created_at&limit=50&offset=20000"},
		{"deep_keyset_page50", "state=active&sort=created_at&limit=50&cursor=" + deepCursor},
		{"text_search_broad", "q=northwind&limit=50"},
		{"text_search_one_customer", "q=customer+01234&limit=50"},
		{"text_search_exact_id", "q=000000012345&limit=50"},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				req := httptest.NewRequest(http.MethodGet, "/api/subscriptions?"+c.query, nil)
				req.AddCookie(cookie)
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("%s: %d %s", c.query, rec.Code, rec.Body)
				}
			}
		})
	}
}
