package awsmp_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/marketgate/marketgate/server/awsmp"
	"github.com/marketgate/marketgate/server/sandbox/awsfake"
	"github.com/marketgate/marketgate/store"
	"github.com/marketgate/marketgate/store/storetest"
)

// caLicense is the detail of a License event for account acct and license n.
func caLicense(acct, n, agreement, product string) map[string]any {
	return map[string]any{"license": map[string]any{"arn": "arn:aws:license-manager::" + acct + ":license:l-" + n},
		"acceptor": map[string]any{"accountId": acct}, "product": map[string]any{"code": product},
		"agreement": map[string]any{"id": agreement}}
}

func agreementEvent(id, detailType string, at time.Time, agreement, intent, status, previous, product string) string {
	d := map[string]any{"agreement": map[string]any{"id": agreement, "intent": intent, "status": status, "previousAgreementId": previous,
		"daysBeforeEndTime": 30, "autoRenewalEnabled": false}, "acceptor": map[string]any{"accountId": "111122223333"},
		"product": map[string]any{"code": product}, "offer": map[string]any{"id": "offer-1"}}
	return event(id, detailType, at, d)
}

func TestAgreementEvents(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		now := time.Now().UTC().Truncate(time.Second)
		st.TestingDB(t).Create(&store.Offer{Marketplace: "aws", Name: "CA", MarketplaceID: "prod-ca", IdentityModel: "concurrent_agreements", CreatedAt: now, UpdatedAt: now})
		p := processor(st)
		at := now.Add(-2 * time.Hour)
		seq := 0
		recv := func(body string) {
			t.Helper()
			seq++
			if err := p.Receive(ctx, body, fmt.Sprint("sqs-", seq)); err != nil {
				t.Fatal(err)
			}
		}
		subFor := func(n string) store.Subscription {
			t.Helper()
			var s store.Subscription
			st.TestingReadDB(t).Where("aws_license_arn = ?", "arn:aws:license-manager::111122223333:license:l-"+n).Limit(1).Find(&s)
			return s
		}
		agreement := func(id string) store.AWSAgreement {
			var a store.AWSAgreement
			st.TestingReadDB(t).Where("agreement_id = ?", id).Limit(1).Find(&a)
			return a
		}
		inbox := func(key string) store.InboxMessage {
			var m store.InboxMessage
			st.TestingReadDB(t).Where("dedup_key = ?", "event:"+key).Limit(1).Find(&m)
			return m
		}
		timelineHas := func(subID uint, text string) bool {
			tl, _ := st.Timeline(ctx, subID)
			for _, e := range tl {
				if strings.Contains(e.Summary, text) {
					return true
				}
			}
			return false
		}

		// Created arrives before License Updated: recorded, nothing to act on yet.
		recv(agreementEvent("c-1", "Purchase Agreement Created - Proposer", at, "agmt-1", "NEW", "ACTIVE", "", "prod-ca"))
		if a := agreement("agmt-1"); a.ID == 0 || a.SubscriptionID != nil || a.Intent != "NEW" || a.Status != "ACTIVE" || a.OfferID != "offer-1" {
			t.Fatalf("agreement before its license: %+v", a)
		}
		if m := inbox("c-1"); m.Status != store.InboxProcessed || m.SubscriptionID != nil {
			t.Fatalf("inbox: %+v", m)
		}
		// License Updated links it and activates the subscription.
		recv(event("l-1", "License Updated - Manufacturer", at.Add(time.Minute), caLicense("111122223333", "1", "agmt-1", "prod-ca")))
		s1 := subFor("1")
		if a := agreement("agmt-1"); s1.State != "active" || s1.AWSOfferID != "offer-1" || a.SubscriptionID == nil || *a.SubscriptionID != s1.ID || a.Status != "ACTIVE" {
			t.Fatalf("after link: sub %+v agreement %+v", s1, a)
		}
		// Ending: a note for the seller, no state change.
		recv(agreementEvent("n-1", "Purchase Agreement Ending - Manufacturer", at.Add(2*time.Minute), "agmt-1", "", "ACTIVE", "", "prod-ca"))
		if !timelineHas(s1.ID, "agmt-1 ends in 30 days (auto-renewal off)") || subFor("1").State != "active" {
			t.Fatal("ending note missing")
		}
		// A renewal continues the subscription; the old agreement ends as RENEWED and access stays.
		recv(agreementEvent("c-2", "Purchase Agreement Created - Proposer", at.Add(3*time.Minute), "agmt-2", "RENEW", "ACTIVE", "agmt-1", "prod-ca"))
		recv(agreementEvent("e-1", "Purchase Agreement Ended - Proposer", at.Add(3*time.Minute), "agmt-1", "", "RENEWED", "", "prod-ca"))
		if a := agreement("agmt-2"); a.SubscriptionID == nil || *a.SubscriptionID != s1.ID {
			t.Fatalf("renewal not linked: %+v", a)
		}
		if s := subFor("1"); s.State != "active" || !timelineHas(s1.ID, "superseded, access kept") {
			t.Fatalf("renewed: %s", s.State)
		}
		// An unknown end status is stored verbatim and revokes nothing.
		recv(agreementEvent("e-2", "Purchase Agreement Ended - Proposer", at.Add(4*time.Minute), "agmt-2", "", "PAUSED_BY_AWS", "", "prod-ca"))
		if s, m := subFor("1"), inbox("e-2"); s.State != "active" || m.Status != store.InboxIgnored || !strings.Contains(m.Error, "PAUSED_BY_AWS") {
			t.Fatalf("unknown status: %s %+v", s.State, m)
		}
		if a := agreement("agmt-2"); a.Status != "PAUSED_BY_AWS" || a.EndedAt == nil {
			t.Fatalf("unknown status not stored: %+v", a)
		}

		// Second customer: two running agreements; cancelling one keeps access,
		// cancelling the last one ends the subscription. Redelivery changes nothing.
		recv(event("l-2", "License Updated - Manufacturer", at, caLicense("111122223333", "2", "agmt-3", "prod-ca")))
		recv(event("l-3", "License Updated - Manufacturer", at, caLicense("111122223333", "2", "agmt-4", "prod-ca")))
		s2 := subFor("2")
		recv(agreementEvent("e-3", "Purchase Agreement Ended - Manufacturer", at.Add(time.Minute), "agmt-3", "", "CANCELLED", "", "prod-ca"))
		if s := subFor("2"); s.State != "active" || !timelineHas(s2.ID, "agreement agmt-4 still covers it") {
			t.Fatalf("one of two agreements cancelled: %s", s.State)
		}
		recv(agreementEvent("e-4", "Purchase Agreement Ended - Manufacturer", at.Add(2*time.Minute), "agmt-4", "", "EXPIRED", "", "prod-ca"))
		ended := subFor("2")
		if ended.State != "ended" {
			t.Fatalf("last agreement expired: %s", ended.State)
		}
		for i := 0; i < 3; i++ {
			recv(agreementEvent("e-4", "Purchase Agreement Ended - Manufacturer", at.Add(2*time.Minute), "agmt-4", "", "EXPIRED", "", "prod-ca"))
		}
		if again := subFor("2"); again.Version != ended.Version {
			t.Fatalf("redelivered end changed the subscription: version %d → %d", ended.Version, again.Version)
		}

		// Out of order: the end arrives before the License Updated that links it.
		recv(agreementEvent("e-5", "Purchase Agreement Ended - Manufacturer", at.Add(10*time.Minute), "agmt-5", "", "TERMINATED", "", "prod-ca"))
		recv(event("l-5", "License Updated - Manufacturer", at.Add(5*time.Minute), caLicense("111122223333", "5", "agmt-5", "prod-ca")))
		if s := subFor("5"); s.State != "ended" || !timelineHas(s.ID, "agmt-5 ended (TERMINATED)") {
			t.Fatalf("end before link: %s", s.State)
		}
		// A later License Updated for the same agreement does not apply the end twice.
		before := subFor("5")
		recv(event("l-6", "License Updated - Manufacturer", at.Add(6*time.Minute), caLicense("111122223333", "5", "agmt-5", "prod-ca")))
		if after := subFor("5"); after.State != "ended" {
			t.Fatalf("relinked: %s (was %s)", after.State, before.State)
		}
	})
}

func TestAgreementAmendedReadsEntitlements(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		now := time.Now().UTC()
		st.TestingDB(t).Create(&store.Offer{Marketplace: "aws", Name: "Contracts", MarketplaceID: "prod-k", Contract: true, IdentityModel: "concurrent_agreements", CreatedAt: now, UpdatedAt: now})
		fake := awsfake.NewEntitlements()
		srv := httptest.NewServer(fake)
		defer srv.Close()
		client, _ := awsmp.New(ctx, awsmp.Config{EntitlementEndpoint: srv.URL, StaticKeys: true, MaxAttempts: 1})
		p := processor(st)
		p.AWS = client
		id := awsfake.Identity{CustomerAWSAccountID: "111122223333", LicenseArn: "arn:aws:license-manager::111122223333:license:l-k", ProductCode: "prod-k"}
		fake.Set(id, awsfake.Entitlement{Dimension: "seats", Value: 10, Expiration: now.AddDate(1, 0, 0)})
		p.Receive(ctx, event("l-1", "License Updated - Manufacturer", now.Add(-time.Hour), caLicense("111122223333", "k", "agmt-k", "prod-k")), "q-1")
		// The buyer upgrades: AWS amends the agreement.
		fake.Set(id, awsfake.Entitlement{Dimension: "seats", Value: 40, Expiration: now.AddDate(1, 0, 0)})
		p.Receive(ctx, agreementEvent("a-1", "Purchase Agreement Amended - Proposer", now, "agmt-k", "AMEND", "ACTIVE", "", "prod-k"), "q-2")
		var sub store.Subscription
		st.TestingReadDB(t).Where("aws_license_arn = ?", id.LicenseArn).First(&sub)
		var ents []store.Entitlement
		st.TestingReadDB(t).Where("subscription_id = ?", sub.ID).Find(&ents)
		if sub.State != "active" || len(ents) != 1 || *ents[0].IntegerValue != 40 {
			t.Fatalf("amended: %s %+v", sub.State, ents)
		}
		if got := fake.Calls(); got != 2 {
			t.Fatalf("GetEntitlements called %d times, want 2 (license, amendment)", got)
		}
	})
}

// Every SNS action that has an EventBridge counterpart ends in the same
// state when the same story is told through EventBridge.
func TestEventBridgeVariantOfEachAction(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		now := time.Now().UTC().Truncate(time.Second)
		st.TestingDB(t).Create(&store.Offer{Marketplace: "aws", Name: "Legacy", MarketplaceID: "prod-legacy", CreatedAt: now, UpdatedAt: now})
		st.TestingDB(t).Create(&store.Offer{Marketplace: "aws", Name: "CA", MarketplaceID: "prod-ca", IdentityModel: "concurrent_agreements", CreatedAt: now, UpdatedAt: now})
		p := processor(st)
		at := now.Add(-time.Hour)
		type step struct{ sns, eb string } // the SNS action and its EventBridge detail-type ("" for none)
		stories := []struct {
			name  string
			steps []step
			want  string
		}{
			{"subscribe", []step{{"subscribe-success", "License Updated"}}, "active"},
			{"agreement created", []step{{"subscribe-success", "Purchase Agreement Created"}}, "active"},
			{"cancel pending", []step{{"subscribe-success", "License Updated"}, {"unsubscribe-pending", "License Deprovisioned"}}, "unsubscribe_pending"},
			{"cancel complete", []step{{"subscribe-success", "License Updated"}, {"unsubscribe-pending", "License Deprovisioned"},
				{"unsubscribe-success", "Purchase Agreement Ended"}}, "ended"},
			{"resubscribe before completion", []step{{"subscribe-success", "License Updated"}, {"unsubscribe-pending", "License Deprovisioned"},
				{"subscribe-success", "License Updated"}}, "active"},
			{"end delivered first", []step{{"unsubscribe-success", "Purchase Agreement Ended"}, {"subscribe-success", "License Updated"}}, "ended"},
		}
		for i, story := range stories {
			t.Run(story.name, func(t *testing.T) {
				cust := fmt.Sprintf("XSTORY%d", i)
				acct := fmt.Sprintf("5555%08d", i)
				agreement := fmt.Sprintf("agmt-story-%d", i)
				for j, s := range story.steps {
					// The first step of "end delivered first" happens last.
					when := at.Add(time.Duration(j) * time.Minute)
					if story.name == "end delivered first" && j == 0 {
						when = at.Add(10 * time.Minute)
					}
					msg := map[string]any{"action": s.sns, "customer-identifier": cust, "product-code": "prod-legacy"}
					if err := p.Receive(ctx, snsEnvelope(fmt.Sprintf("sns-%d-%d", i, j), when, msg), fmt.Sprintf("q-s-%d-%d", i, j)); err != nil {
						t.Fatal(err)
					}
					var body string
					switch s.eb {
					case "License Updated", "License Deprovisioned":
						body = event(fmt.Sprintf("eb-%d-%d", i, j), s.eb+" - Manufacturer", when, caLicense(acct, fmt.Sprint(i), agreement, "prod-ca"))
					case "Purchase Agreement Created":
						// Created alone links nothing; AWS also sends License Updated.
						body = agreementEvent(fmt.Sprintf("eb-%d-%d", i, j), s.eb+" - Proposer", when, agreement, "NEW", "ACTIVE", "", "prod-ca")
						_ = p.Receive(ctx, body, fmt.Sprintf("q-e-%d-%d", i, j))
						body = event(fmt.Sprintf("eb-lu-%d-%d", i, j), "License Updated - Manufacturer", when, caLicense(acct, fmt.Sprint(i), agreement, "prod-ca"))
					case "Purchase Agreement Ended":
						body = agreementEvent(fmt.Sprintf("eb-%d-%d", i, j), s.eb+" - Proposer", when, agreement, "", "CANCELLED", "", "prod-ca")
					}
					if err := p.Receive(ctx, body, fmt.Sprintf("q-e2-%d-%d", i, j)); err != nil {
						t.Fatal(err)
					}
				}
				var legacy, ca store.Subscription
				st.TestingReadDB(t).Where("aws_customer_identifier = ?", cust).Limit(1).Find(&legacy)
				st.TestingReadDB(t).Where("aws_customer_account_id = ?", acct).Limit(1).Find(&ca)
				if legacy.State != story.want || ca.State != story.want {
					t.Fatalf("SNS ended %q, EventBridge %q, want %q", legacy.State, ca.State, story.want)
				}
			})
		}
	})
}
