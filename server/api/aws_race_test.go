package api_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/marketgate/marketgate/server/awsmp"
	"github.com/marketgate/marketgate/server/sandbox/awsfake"
	"github.com/marketgate/marketgate/store"
	"github.com/marketgate/marketgate/store/storetest"
)

// "Ordering between events, and between events and the registration POST,
// is not guaranteed" (reference §2, §6): a new buyer's registration POSTs
// and the queue's notifications may all try to create the buyer's
// subscription at the same moment. Every one of them must succeed (no
// "try again" page, no failed inbox message) and leave exactly one
// subscription carrying every identity AWS gave, and one customer.
func TestAWSRegistrationRacingNotificationsMakeOneSubscription(t *testing.T) {
	const n = 6 // registrations, and as many notifications
	cases := []struct {
		name  string
		buyer awsfake.Identity
		note  func(id awsfake.Identity, at time.Time) string
	}{
		{"concurrent agreements: License Updated", caBuyer, func(id awsfake.Identity, at time.Time) string {
			return awsfake.LicenseEvent("License Updated", id, "agmt-race", at)
		}},
		// Legacy products: ResolveCustomer answers all four identities
		// (reference §1, §3); subscribe-success names the customer identifier.
		{"legacy: subscribe-success", awsfake.Identity{CustomerIdentifier: "X01RACEX", ProductCode: "prod-legacy",
			CustomerAWSAccountID: "444455556666", LicenseArn: "arn:aws:license-manager::444455556666:license:l-legacy"},
			func(id awsfake.Identity, at time.Time) string {
				return awsfake.SNSNotification("subscribe-success", id, false, at)
			}},
	}
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newAWSEnv(t, st)
		p := &awsmp.Processor{Store: st, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
		ctx := context.Background()
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				at := time.Now().UTC().Add(-time.Minute)
				tokens := make([]string, n)
				for i := range tokens {
					tokens[i] = e.fake.IssueToken(tc.buyer)
				}
				start := make(chan struct{})
				var wg sync.WaitGroup
				errs := make(chan error, 2*n)
				for i := 0; i < n; i++ {
					wg.Add(2)
					go func(i int) {
						defer wg.Done()
						<-start
						req := httptestRegister(e, tokens[i])
						if req.code != http.StatusSeeOther {
							errs <- fmt.Errorf("registration %d: answered %d, want 303 (a \"try again\" page)", i, req.code)
						}
					}(i)
					go func(i int) {
						defer wg.Done()
						<-start
						if err := p.Receive(ctx, tc.note(tc.buyer, at), fmt.Sprintf("sqs-%s-%d", tc.name, i)); err != nil {
							errs <- fmt.Errorf("notification %d: %v", i, err)
						}
					}(i)
				}
				close(start)
				wg.Wait()
				close(errs)
				for err := range errs {
					t.Error(err)
				}

				var subs []store.Subscription
				if err := st.TestingReadDB(t).Where("aws_product_code = ?", tc.buyer.ProductCode).Find(&subs).Error; err != nil {
					t.Fatal(err)
				}
				if len(subs) != 1 {
					t.Fatalf("%d subscriptions, want 1: %+v", len(subs), subs)
				}
				s := subs[0]
				if s.AWSCustomerAccountID != tc.buyer.CustomerAWSAccountID || s.AWSLicenseArn != tc.buyer.LicenseArn ||
					s.AWSCustomerIdentifier != tc.buyer.CustomerIdentifier || s.CustomerID == nil || s.State != "active" {
					t.Fatalf("subscription does not carry every identity: %+v", s)
				}
				var customers int64
				if err := st.TestingReadDB(t).Model(&store.Customer{}).Where("aws_account_id = ?", tc.buyer.CustomerAWSAccountID).Count(&customers).Error; err != nil {
					t.Fatal(err)
				}
				if customers != 1 {
					t.Fatalf("%d customers for account %s, want 1", customers, tc.buyer.CustomerAWSAccountID)
				}
				var inbox []store.InboxMessage
				if err := st.TestingReadDB(t).Where("subscription_id = ? OR subscription_id IS NULL", s.ID).Find(&inbox).Error; err != nil {
					t.Fatal(err)
				}
				processed := 0
				for _, m := range inbox {
					if m.Status == store.InboxProcessed && m.SubscriptionID != nil && *m.SubscriptionID == s.ID {
						processed++
					} else if m.Status != store.InboxProcessed {
						t.Errorf("inbox %d (%s) %s: %s", m.ID, m.Source, m.Status, m.Error)
					}
				}
				if processed != 2*n {
					t.Fatalf("%d inbox messages processed for the subscription, want %d", processed, 2*n)
				}
			})
		}
	})
}

func httptestRegister(e *awsEnv, token string) resp {
	return e.register(url.Values{"x-amzn-marketplace-token": {token}})
}
