package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/marketgate/marketgate/store"
	"github.com/marketgate/marketgate/store/storetest"
)

func TestMigrationsAreIdempotent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		pending, err := st.PendingMigrations()
		if err != nil || len(pending) != 0 {
			t.Fatalf("pending after migrate: %v %v", pending, err)
		}
		if err := st.Migrate(); err != nil {
			t.Fatalf("second migrate: %v", err)
		}
		for _, table := range []string{"settings", "customers", "users", "sessions", "api_keys", "offers", "plans",
			"subscriptions", "timeline_events", "inbox_messages", "audit_log"} {
			if !st.TestingDB(t).Migrator().HasTable(table) {
				t.Errorf("table %s missing", table)
			}
		}
	})
}

func newSub(mp string) store.Subscription {
	now := time.Now().UTC()
	return store.Subscription{Marketplace: mp, State: "active", StateChangedAt: now, Version: 1, CreatedAt: now, UpdatedAt: now}
}

func TestIdentityKeysAreUnique(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		create := func(s store.Subscription) error {
			return st.TestingDB(t).WithContext(ctx).Omit("Customer", "Offer", "Plan").Create(&s).Error
		}
		ca := newSub("aws")
		ca.AWSCustomerAccountID, ca.AWSLicenseArn = "111122223333", "arn:aws:license-manager::111122223333:license:l-1"
		legacy := newSub("aws")
		legacy.AWSProductCode, legacy.AWSCustomerIdentifier = "prod", "X01"
		az := newSub("azure")
		az.AzureSubscriptionID = "c1a3e8b2-0000-4000-a000-000000000001"
		for name, s := range map[string]store.Subscription{"concurrent agreements": ca, "legacy": legacy, "azure": az} {
			if err := create(s); err != nil {
				t.Fatalf("%s: first insert: %v", name, err)
			}
			if err := create(s); err == nil {
				t.Fatalf("%s: a second subscription with the same identity was stored", name)
			}
		}
		// Another license of the same account is another subscription.
		ca2 := ca
		ca2.AWSLicenseArn = "arn:aws:license-manager::111122223333:license:l-2"
		if err := create(ca2); err != nil {
			t.Fatalf("second license of one account: %v", err)
		}
		// Empty identities do not collide.
		for i := 0; i < 3; i++ {
			if err := create(newSub("azure")); err != nil {
				t.Fatalf("empty identity %d: %v", i, err)
			}
		}
		bad := newSub("aws")
		bad.State = "sleeping"
		if err := create(bad); err == nil {
			t.Fatal("an unknown state was stored")
		}
		neg := newSub("aws")
		neg.Quantity = -1
		if err := create(neg); err == nil {
			t.Fatal("a negative quantity was stored")
		}
	})
}

func TestUsers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		u := &store.User{Email: " Ada@Example.COM ", Role: store.RoleAdmin, PasswordHash: "h"}
		if err := st.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		if err := st.CreateUser(ctx, &store.User{Email: "ada@example.com", Role: store.RoleViewer}); err != store.ErrConflict {
			t.Fatalf("duplicate e-mail: %v", err)
		}
		got, err := st.UserByEmail(ctx, "ADA@example.com")
		if err != nil || got.ID != u.ID {
			t.Fatalf("lookup: %v %v", got, err)
		}
		if _, err := st.UserByEmail(ctx, "nobody@example.com"); err != store.ErrNotFound {
			t.Fatalf("unknown: %v", err)
		}
		// A customer admin must name a customer, and only customer admins may.
		if err := st.CreateUser(ctx, &store.User{Email: "ca@example.com", Role: store.RoleCustomerAdmin}); err == nil {
			t.Fatal("customer admin without customer stored")
		}
		created, err := st.UpsertAdmin(ctx, "ada@example.com", "h2")
		if err != nil || created {
			t.Fatalf("upsert existing: %v %v", created, err)
		}
		got, _ = st.UserByEmail(ctx, "ada@example.com")
		if got.PasswordHash != "h2" {
			t.Fatal("upsert did not set the password")
		}
	})
}

func TestSettings(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		if _, ok, err := st.GetSetting(ctx, "k"); ok || err != nil {
			t.Fatalf("absent setting: %v %v", ok, err)
		}
		if err := st.SetSetting(ctx, "k", "v1"); err != nil {
			t.Fatal(err)
		}
		if err := st.SetSetting(ctx, "k", "v2"); err != nil {
			t.Fatal(err)
		}
		if v, ok, _ := st.GetSetting(ctx, "k"); !ok || v != "v2" {
			t.Fatalf("got %q %v", v, ok)
		}
		var wg sync.WaitGroup
		vals := make([]string, 8)
		errs := make([]error, 8)
		for i := range vals {
			wg.Add(1)
			go func() {
				defer wg.Done()
				vals[i], errs[i] = st.SettingOnce(ctx, "once", func() string { return fmt.Sprint("value-", i) })
			}()
		}
		wg.Wait()
		for i := range vals {
			if errs[i] != nil {
				t.Fatalf("SettingOnce: %v", errs[i])
			}
			if vals[i] != vals[0] {
				t.Fatalf("SettingOnce gave %q and %q", vals[0], vals[i])
			}
		}
	})
}

// TestMigrationGivesAWSSubscriptionsTheirDefaultPlan: AWS SaaS
// subscriptions that are not contracts meter the product's dimensions from
// the start; the ones stored without a plan get their offer's first plan,
// contracts (plan from the entitlements) and Microsoft keep theirs.
func TestMigrationGivesAWSSubscriptionsTheirDefaultPlan(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		now := time.Now().UTC()
		mk := func(contract bool, code string) store.Offer {
			o := store.Offer{Marketplace: "aws", Name: code, MarketplaceID: code, IdentityModel: "legacy", Contract: contract, CreatedAt: now, UpdatedAt: now,
				Plans: []store.Plan{{PlanID: "first", Name: "First", Dimensions: `[{"key":"api_calls"}]`, ActivationPolicy: "automatic", CreatedAt: now, UpdatedAt: now},
					{PlanID: "second", Name: "Second", Dimensions: `[]`, ActivationPolicy: "automatic", CreatedAt: now, UpdatedAt: now}}}
			if err := st.TestingDB(t).Create(&o).Error; err != nil {
				t.Fatal(err)
			}
			return o
		}
		payg, contract := mk(false, "payg"), mk(true, "contract")
		sub := func(o store.Offer, ident string) store.Subscription {
			s := store.Subscription{Marketplace: "aws", State: "active", StateChangedAt: now, OfferID: &o.ID, AWSCustomerIdentifier: ident,
				AWSProductCode: o.MarketplaceID, Version: 1, CreatedAt: now, UpdatedAt: now}
			if err := st.TestingDB(t).Create(&s).Error; err != nil {
				t.Fatal(err)
			}
			return s
		}
		a, b := sub(payg, "XA"), sub(contract, "XB")
		if err := st.TestingDB(t).Exec("DELETE FROM schema_migrations WHERE id = ?", "202612030013_aws_default_plans").Error; err != nil {
			t.Fatal(err)
		}
		if err := st.Migrate(); err != nil {
			t.Fatal(err)
		}
		var got []store.Subscription
		st.TestingReadDB(t).Order("id").Find(&got)
		if got[0].ID != a.ID || got[0].PlanID == nil || *got[0].PlanID != payg.Plans[0].ID || got[0].Version != 2 {
			t.Fatalf("pay-as-you-go: %+v", got[0])
		}
		if got[1].ID != b.ID || got[1].PlanID != nil {
			t.Fatalf("contract: %+v", got[1])
		}
	})
}
