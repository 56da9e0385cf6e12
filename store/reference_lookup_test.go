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

// TestReferenceLookupsReadByIndex: the seller's access check and usage's
// lookup find a subscription by every marketplace reference it holds (an
// AWS account id, customer identifier or license ARN, a Microsoft
// subscription or tenant id, the AWS account its customer registered
// with, a Marketgate customer id), and they read each reference's own
// index: with 20,000 subscriptions, most of them holding the empty
// string in these columns, and statistics from before any held an AWS
// account id, neither database may scan the subscriptions for them (one
// condition ORing the columns did, on both: 37 ms an access check at
// 100,000 on SQLite, 28 ms on Postgres).
func TestReferenceLookupsReadByIndex(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		db := st.TestingDB(t)
		now := time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)
		customers := make([]store.Customer, 2000)
		for i := range customers {
			customers[i] = store.Customer{Name: fmt.Sprintf("Customer %d", i), CreatedAt: now, UpdatedAt: now}
			if i%10 == 0 {
				customers[i].AWSAccountID = fmt.Sprintf("%012d", 500000+i)
			}
		}
		if err := db.CreateInBatches(customers, 500).Error; err != nil {
			t.Fatal(err)
		}
		subs := make([]store.Subscription, 20000)
		for i := range subs {
			s := store.Subscription{Marketplace: "aws", State: "active", StateChangedAt: now, Name: fmt.Sprintf("Sub %d", i),
				CustomerID: &customers[i%len(customers)].ID, Version: 1, CreatedAt: now, UpdatedAt: now}
			switch i % 100 {
			case 1:
				if i%2000 == 101 {
					s.AWSCustomerAccountID, s.AWSLicenseArn = fmt.Sprintf("%012d", 100000+i), fmt.Sprintf("arn:aws:license-manager::1:license:l-%d", i)
				}
			case 2:
				s.AWSCustomerIdentifier, s.AWSProductCode = fmt.Sprintf("CUST%d", i), "prod"
			case 3:
				s.Marketplace, s.AzureSubscriptionID, s.AzureTenantID = "azure", fmt.Sprintf("sub-%d", i), fmt.Sprintf("tenant-%d", i/1000)
			}
			subs[i] = s
		}
		// The statistics are from before the seller's first buyers with
		// an AWS account id and license came (a seller of Microsoft's
		// marketplace and AWS's legacy buyers until then): to them, every
		// subscription holds the same account id and license, ''.
		var later []store.Subscription
		subs = slices.DeleteFunc(subs, func(s store.Subscription) bool {
			if s.AWSLicenseArn != "" {
				later = append(later, s)
			}
			return s.AWSLicenseArn != ""
		})
		if err := st.BulkCreateSubscriptions(ctx, subs); err != nil {
			t.Fatal(err)
		}
		if err := db.Exec("ANALYZE").Error; err != nil {
			t.Fatal(err)
		}
		if err := st.BulkCreateSubscriptions(ctx, later); err != nil {
			t.Fatal(err)
		}
		idsOf := func(subs []store.Subscription) []uint {
			var ids []uint
			for _, s := range subs {
				ids = append(ids, s.ID)
			}
			return ids
		}
		want := func(cond string, args ...any) []uint {
			t.Helper()
			var ids []uint
			if err := db.Raw("SELECT id FROM subscriptions WHERE "+cond+" ORDER BY id", args...).Scan(&ids).Error; err != nil || len(ids) == 0 {
				t.Fatal(cond, ids, err)
			}
			return ids
		}
		tenantSubs := want("azure_tenant_id = ?", "tenant-3")
		custAccount := customers[20].AWSAccountID
		cases := []struct {
			what, ref string
			want      []uint
		}{
			{"AWS account id", "000000100101", want("aws_customer_account_id = ?", "000000100101")},
			{"AWS license ARN", "arn:aws:license-manager::1:license:l-2101", want("aws_license_arn = ?", "arn:aws:license-manager::1:license:l-2101")},
			{"AWS customer identifier", "CUST302", want("aws_customer_identifier = ?", "CUST302")},
			{"Microsoft subscription id", "sub-403", want("azure_subscription_id = ?", "sub-403")},
			{"Microsoft tenant id (every subscription of the tenant)", "tenant-3", tenantSubs},
			{"the AWS account the customer registered with", custAccount, want("customer_id = ?", customers[20].ID)},
			{"a Marketgate customer id", fmt.Sprint(customers[7].ID), want("customer_id = ?", customers[7].ID)},
		}
		var all []string
		var allWant []uint
		for _, c := range cases {
			got, err := st.AccessCandidates(ctx, c.ref)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(idsOf(got), c.want) {
				t.Errorf("access check by %s %q found %v, want %v", c.what, c.ref, idsOf(got), c.want)
			}
			for _, s := range got {
				if s.Customer == nil || s.Customer.ID != *s.CustomerID {
					t.Errorf("access check by %s: subscription %d without its customer", c.what, s.ID)
				}
			}
			if !strings.HasPrefix(c.what, "a Marketgate") {
				all = append(all, c.ref)
				allWant = append(allWant, c.want...)
			}
		}
		for _, ref := range []string{"", "000000000000", "nobody"} {
			if got, err := st.AccessCandidates(ctx, ref); err != nil || len(got) != 0 {
				t.Errorf("access check by %q found %v (%v)", ref, idsOf(got), err)
			}
		}
		// Usage's lookup takes them all at once, in id order.
		slices.Sort(allWant)
		allWant = slices.Compact(allWant)
		var got []store.Subscription
		if err := st.InTx(ctx, func(tx *store.Tx) error {
			var err error
			got, err = tx.SubscriptionsForUsage(append(all, "nobody", ""), nil, nil)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(idsOf(got), allWant) {
			t.Errorf("usage's lookup found %v, want %v", idsOf(got), allWant)
		}

		// The plan: every arm by an index, no scan of a table.
		refs := []string{"000000100101", "CUST302", "sub-403"}
		q := st.TestingReferenceIDsSQL(t)
		var plan []string
		var err error
		if st.Dialect == store.Postgres {
			err = db.Raw("EXPLAIN "+q, refs, refs, refs, refs, refs, refs).Scan(&plan).Error
		} else {
			var rows []struct {
				ID, Parent, Notused int
				Detail              string
			}
			err = db.Raw("EXPLAIN QUERY PLAN "+q, refs, refs, refs, refs, refs, refs).Scan(&rows).Error
			for _, r := range rows {
				plan = append(plan, r.Detail)
			}
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range plan {
			if strings.Contains(line, "Seq Scan") || strings.HasPrefix(strings.TrimSpace(line), "SCAN ") {
				t.Errorf("the reference lookup scans a table:\n%s", strings.Join(plan, "\n"))
				break
			}
		}
	})
}
