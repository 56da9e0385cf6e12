package sandbox_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	ma "github.com/aws/aws-sdk-go-v2/service/marketplaceagreement"

	"github.com/marketgate/marketgate/server/awsmp"
	"github.com/marketgate/marketgate/server/sandbox"
	"github.com/marketgate/marketgate/server/sandbox/awsfake"
	"github.com/marketgate/marketgate/store"
	"github.com/marketgate/marketgate/store/storetest"
)

// TestSeededAWSSubscriptionsAreWhatTheFlowsMake is issue 13's defect 11:
// the demo AWS subscriptions must be what the real flows produce. Checked
// against AWS's contract: every notification is stored before it is applied
// (reference §6.1), so every timeline entry from SQS has its stored message
// (Raw); a contract's access follows GetEntitlements (§5), so an active
// contract holds a current grant, its seats and term come from it; and the
// timeline, read in time order, is one story (each entry starts where the
// one before ended; nothing is registered after it was already confirmed as
// a new record).
func TestSeededAWSSubscriptionsAreWhatTheFlowsMake(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
		n, err := sandbox.Seed(ctx, st, sandbox.SeedOptions{Subscriptions: 120, Customers: 30, Now: now})
		if err != nil || n != 120 {
			t.Fatalf("seeded %d: %v", n, err)
		}
		var subs []store.Subscription
		st.TestingReadDB(t).Preload("Offer").Preload("Plan").Where("marketplace = 'aws'").Find(&subs)
		states := map[string]int{}
		kinds := map[string]bool{}
		for _, s := range subs {
			states[s.State]++
			if s.Offer == nil || s.CustomerID == nil || s.Name == "" {
				t.Fatalf("subscription %d without offer, customer or name", s.ID)
			}
			kind := s.Offer.IdentityModel + map[bool]string{true: "/contract", false: "/saas"}[s.Offer.Contract]
			kinds[kind] = true
			tl, _ := st.Timeline(ctx, s.ID)
			prev := ""
			for _, e := range tl {
				if e.FromState != prev {
					t.Fatalf("subscription %d: %q (%s → %s at %s) follows %q", s.ID, e.Summary, e.FromState, e.ToState, e.At, prev)
				}
				prev = e.ToState
				if e.At.After(now) {
					t.Fatalf("subscription %d: an entry after now: %s", s.ID, e.At)
				}
				if e.Source == "aws_sqs" || e.Source == "aws_registration" {
					var m store.InboxMessage
					if e.InboxID == nil || st.TestingReadDB(t).First(&m, *e.InboxID).Error != nil || m.SubscriptionID == nil || *m.SubscriptionID != s.ID {
						t.Fatalf("subscription %d: %q has no stored message of its own", s.ID, e.Summary)
					}
				}
			}
			if prev != s.State {
				t.Fatalf("subscription %d is %s, its timeline ends %s", s.ID, s.State, prev)
			}
			var ents []store.Entitlement
			st.TestingReadDB(t).Where("subscription_id = ?", s.ID).Find(&ents)
			current := 0
			for _, g := range ents {
				if g.Current(now) {
					current++
				}
			}
			switch {
			case !s.Offer.Contract && len(ents) > 0:
				t.Fatalf("subscription %d: entitlements on a non-contract product", s.ID)
			case s.Offer.Contract && s.State == "active" && (current == 0 || s.Quantity == 0 || s.TermEnd == nil || !s.TermEnd.After(now) || s.Plan == nil):
				t.Fatalf("active contract %d: %d current grants, %d seats, term end %v, plan %v", s.ID, current, s.Quantity, s.TermEnd, s.Plan)
			case s.Offer.Contract && s.State == "active" && s.AWSCustomerIdentifier == "" && s.TermStart == nil:
				// A concurrent-agreements contract: Purchase Agreement Created
				// gives the term. A legacy buyer has a license too, but AWS
				// tells them only by SNS, which names no agreement (§6.3, §6.4).
				t.Fatalf("active contract %d without the agreement's start", s.ID)
			case s.Offer.Contract && s.State == "ended" && current > 0:
				t.Fatalf("ended contract %d still holds %d current grants", s.ID, current)
			}
		}
		// One buyer, one subscription, carrying every identity AWS gave
		// (reference §1, §3): a legacy buyer the CustomerIdentifier and the
		// account and license ResolveCustomer also answers; no identity is
		// on two subscriptions.
		seenRef := map[string]uint{}
		for _, s := range subs {
			legacy := s.Offer.IdentityModel == "legacy"
			if s.AWSCustomerAccountID == "" || s.AWSLicenseArn == "" || s.AWSProductCode == "" || legacy != (s.AWSCustomerIdentifier != "") {
				t.Fatalf("%s subscription %d: account %q, license %q, product %q, customer identifier %q", s.Offer.IdentityModel, s.ID,
					s.AWSCustomerAccountID, s.AWSLicenseArn, s.AWSProductCode, s.AWSCustomerIdentifier)
			}
			for _, ref := range []string{s.AWSLicenseArn, s.AWSCustomerIdentifier} {
				if other, dup := seenRef[ref]; ref != "" && dup {
					t.Fatalf("subscriptions %d and %d share %s", other, s.ID, ref)
				}
				seenRef[ref] = s.ID
			}
		}
		for _, st := range []string{"pending", "active", "unsubscribe_pending", "ended", "failed"} {
			if states[st] == 0 {
				t.Errorf("no seeded AWS subscription is %s (%v)", st, states)
			}
		}
		for _, k := range []string{"legacy/saas", "legacy/contract", "concurrent_agreements/saas", "concurrent_agreements/contract"} {
			if !kinds[k] {
				t.Errorf("no seeded AWS subscription of %s", k)
			}
		}

		// The live simulated AWS learns what the database holds: a contract
		// holds at AWS the grants it holds here.
		m, ents := awsfake.NewMetering(nil), awsfake.NewEntitlements()
		if err := sandbox.LoadAWS(ctx, st, m, ents); err != nil {
			t.Fatal(err)
		}
		for _, s := range subs {
			if s.Offer.Contract && s.State == "active" {
				id := awsfake.Identity{CustomerAWSAccountID: s.AWSCustomerAccountID, LicenseArn: s.AWSLicenseArn,
					CustomerIdentifier: s.AWSCustomerIdentifier, ProductCode: s.AWSProductCode}
				if len(ents.Of(id)) == 0 {
					t.Fatalf("contract %d holds nothing at the simulated AWS after a restart", s.ID)
				}
			}
		}

		// Every linked agreement's terms were read at seeding (a running
		// server starts with no backlog of agreements to read), and the
		// live simulated Agreement Service answers GetAgreementTerms for
		// each after a restart, free trial included.
		var agreements []store.AWSAgreement
		st.TestingReadDB(t).Where("subscription_id IS NOT NULL").Find(&agreements)
		if len(agreements) == 0 {
			t.Fatal("no seeded AWS agreement")
		}
		trial := map[uint]bool{}
		for _, s := range subs {
			trial[s.ID] = s.FreeTrial
		}
		for _, a := range agreements {
			if a.TermsStatus != "read" {
				t.Fatalf("agreement %s: terms %q (%s)", a.AgreementID, a.TermsStatus, a.TermsError)
			}
			if want := trial[*a.SubscriptionID]; (a.FreeTrialDays != nil) != want || (want && *a.FreeTrialDays != 14) {
				t.Fatalf("agreement %s: free trial days %v, the buyer's trial %v", a.AgreementID, a.FreeTrialDays, want)
			}
		}
		f := awsfake.NewAgreementService()
		if err := sandbox.LoadAWSAgreements(ctx, st, f); err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(f)
		defer srv.Close()
		client := &awsmp.Client{Agreement: ma.New(ma.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), RetryMaxAttempts: 1,
			Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")})}
		for _, a := range agreements {
			terms, err := client.GetAgreementTerms(ctx, a.AgreementID)
			if err != nil {
				t.Fatalf("agreement %s after a restart: %v", a.AgreementID, err)
			}
			if terms.FreeTrial != (a.FreeTrialDays != nil) || (a.FreeTrialDays != nil && terms.FreeTrialDays != *a.FreeTrialDays) {
				t.Fatalf("agreement %s after a restart: trial %v/%d, stored %v", a.AgreementID, terms.FreeTrial, terms.FreeTrialDays, a.FreeTrialDays)
			}
		}
	})
}

// TestSeededCustomersAreOneRecordEach: the demo data has no duplicate
// customers (one organisation, one record: no name, e-mail, AWS account or
// Entra tenant twice), and every subscription is named by the one rule
// (subscriptions.DisplayName): the marketplace's name when it gives one,
// else "<Customer> – <Offer>".
func TestSeededCustomersAreOneRecordEach(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
		// More customers than name pairs would allow without numbering, so the wrap-around is checked too.
		if _, err := sandbox.Seed(ctx, st, sandbox.SeedOptions{Subscriptions: 60, Customers: 150, Now: now}); err != nil {
			t.Fatal(err)
		}
		var customers []store.Customer
		st.TestingReadDB(t).Find(&customers)
		if len(customers) < 150 {
			t.Fatalf("%d customers", len(customers))
		}
		seen := map[string]uint{}
		for _, c := range customers {
			for _, key := range []string{"name:" + strings.ToLower(c.Name), "email:" + c.Email, "aws:" + c.AWSAccountID, "tenant:" + c.AzureTenantID} {
				if strings.HasSuffix(key, ":") {
					continue
				}
				if other, dup := seen[key]; dup {
					t.Errorf("customers %d and %d share %s", other, c.ID, key)
				}
				seen[key] = c.ID
			}
		}
		var subs []store.Subscription
		st.TestingReadDB(t).Preload("Offer").Preload("Customer").Find(&subs)
		for _, s := range subs {
			if s.Customer == nil || s.Offer == nil {
				t.Fatalf("subscription %d without customer or offer", s.ID)
			}
			if want := s.Customer.Name + " – " + s.Offer.Name; s.Name != want {
				t.Errorf("%s subscription %d is named %q, want %q", s.Marketplace, s.ID, s.Name, want)
			}
		}
	})
}
