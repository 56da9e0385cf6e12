package awsmp_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ma "github.com/aws/aws-sdk-go-v2/service/marketplaceagreement"
	matypes "github.com/aws/aws-sdk-go-v2/service/marketplaceagreement/types"
	"github.com/aws/smithy-go"

	"github.com/marketgate/marketgate/server/awsmp"
	"github.com/marketgate/marketgate/server/sandbox/awsfake"
	"github.com/marketgate/marketgate/store"
	"github.com/marketgate/marketgate/store/storetest"
)

var wires = []struct {
	name string
	json bool
}{{"rpcv2-cbor", false}, {"awsjson1.0", true}}

// seedAgreementChain gives the fake an agreement renewed once: agmt-old
// (RENEWED) and agmt-new (ACTIVE, intent RENEW), a configurable upfront
// contract with a usage rate card, a free trial, a renewal term the buyer
// turned off, a support and a legal term.
func seedAgreementChain(fake *awsfake.AgreementService, start time.Time) {
	off := false
	terms := awsfake.AgreementTerms{Start: start, FreeTrialDays: 14, Dimensions: []string{"users"}, Pricing: "configurable", Currency: "USD",
		Rates:        []awsfake.Rate{{Dimension: "users", Price: "12.50", Units: 20}, {Dimension: "admins", Price: "40.00", Units: 2}},
		RefundPolicy: "Refunds within 30 days", AutoRenew: &off}
	fake.SetTerms("agmt-old", terms)
	fake.SetAgreement("agmt-old", awsfake.AgreementInfo{AcceptorAccountID: "111122223333", ProductID: "prod-ca", OfferID: "offer-1",
		LicenseArn: "arn:aws:license-manager::111122223333:license:l-old", Value: "330.00", Currency: "USD"})
	fake.Renew("agmt-old", "agmt-new", start.AddDate(1, 0, 0))
}

// TestReadAgreementThroughTheSDK: the real marketplaceagreement client
// (v1.30.8) against the simulated Agreement Service on both wire
// protocols. DescribeAgreement: "EndTimeBehavior … The reason why the
// agreement doesn't renew … ACCEPTOR_RENEW_OPTED_OUT – The acceptor opted
// out of renewing the agreement"; "InitialAgreementId … stays the same
// across all agreements in that chain"; SearchAgreements by
// InitialAgreementId "return[s] every agreement in the same chain".
func TestReadAgreementThroughTheSDK(t *testing.T) {
	for _, wire := range wires {
		t.Run(wire.name, func(t *testing.T) {
			ctx := context.Background()
			fake := awsfake.NewAgreementService()
			srv := httptest.NewServer(fake)
			defer srv.Close()
			start := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
			seedAgreementChain(fake, start)
			c := &awsmp.Client{Agreement: agreementClient(srv.URL, wire.json)}
			v, err := c.ReadAgreement(ctx, "agmt-old")
			if err != nil {
				t.Fatal(err)
			}
			if v.Status != "RENEWED" || v.AcceptorAccountID != "111122223333" || v.OfferID != "offer-1" || v.ProductID != "prod-ca" ||
				v.InitialAgreementID != "agmt-old" || v.EstimatedValue != "330.00" || v.Currency != "USD" {
				t.Fatalf("described: %+v", v)
			}
			if v.StartsAt == nil || !v.StartsAt.Equal(start) || v.EndsAt == nil || !v.EndsAt.Equal(start.AddDate(1, 0, 0)) {
				t.Fatalf("dates: %v %v", v.StartsAt, v.EndsAt)
			}
			if len(v.Pricing) != 1 || v.Pricing[0].Kind != "configurable_upfront" || v.Pricing[0].Duration != "P12M" {
				t.Fatalf("pricing: %+v", v.Pricing)
			}
			if len(v.Dimensions) != 2 || v.Dimensions[0].Key != "users" || v.Dimensions[0].Price != "12.50" || v.Dimensions[0].Units == nil || *v.Dimensions[0].Units != 20 {
				t.Fatalf("dimensions: %+v", v.Dimensions)
			}
			if v.FreeTrial == nil || v.FreeTrial.Days != 14 || v.FreeTrial.EndsAt == nil || !v.FreeTrial.EndsAt.Equal(start.AddDate(0, 0, 14)) {
				t.Fatalf("free trial: %+v", v.FreeTrial)
			}
			if v.RefundPolicy != "Refunds within 30 days" || len(v.Documents) != 1 || v.Documents[0].Type != "StandardEula" {
				t.Fatalf("support and legal: %q %+v", v.RefundPolicy, v.Documents)
			}
			// A renewed agreement is no longer active: no end behaviour.
			if !v.Renewal.HasRenewalTerm || v.Renewal.AutoRenew == nil || *v.Renewal.AutoRenew || v.Renewal.Behavior != "" {
				t.Fatalf("renewal of the renewed agreement: %+v", v.Renewal)
			}
			if len(v.Entitlements) != 1 || v.Entitlements[0].Status != "DEPROVISIONED" || v.Entitlements[0].Reason != "AGREEMENT_INACTIVE" {
				t.Fatalf("entitlements: %+v", v.Entitlements)
			}
			if len(v.Related) != 1 || v.Related[0].AgreementID != "agmt-new" || v.Related[0].Relation != "later" || v.Related[0].Status != "ACTIVE" {
				t.Fatalf("related: %+v", v.Related)
			}

			cur, err := c.ReadAgreement(ctx, "agmt-new")
			if err != nil {
				t.Fatal(err)
			}
			if cur.Status != "ACTIVE" || cur.InitialAgreementID != "agmt-old" || cur.Renewal.Behavior != "EXPIRE" ||
				cur.Renewal.ReasonCode != "ACCEPTOR_RENEW_OPTED_OUT" || cur.Renewal.TurnedOffBy != "buyer" || cur.Renewal.RenewalOfferID != "offer-1" {
				t.Fatalf("current agreement: %+v", cur.Renewal)
			}
			if len(cur.Related) != 1 || cur.Related[0].AgreementID != "agmt-old" || cur.Related[0].Relation != "earlier" {
				t.Fatalf("related of the renewal: %+v", cur.Related)
			}
			// The seller opts out: PROPOSER_RENEW_OPTED_OUT "takes precedence over all others".
			fake.SetAutoRenew("agmt-new", true, false)
			fake.SetAutoRenew("agmt-new", false, true)
			cur, err = c.ReadAgreement(ctx, "agmt-new")
			if err != nil || cur.Renewal.ReasonCode != "PROPOSER_RENEW_OPTED_OUT" || cur.Renewal.TurnedOffBy != "seller" || cur.Renewal.AutoRenew == nil || !*cur.Renewal.AutoRenew {
				t.Fatalf("seller opt-out: %+v %v", cur.Renewal, err)
			}
			fake.SetAutoRenew("agmt-new", true, true)
			cur, _ = c.ReadAgreement(ctx, "agmt-new")
			if cur.Renewal.Behavior != "RENEW" || cur.Renewal.ReasonCode != "" || cur.Renewal.TurnedOffBy != "" {
				t.Fatalf("renews: %+v", cur.Renewal)
			}
		})
	}
}

// TestAgreementServiceErrors: AWS's refusals reach the caller as the SDK's
// typed errors on both wires: ResourceNotFoundException for an unknown
// agreement, ValidationException for a malformed id and for a
// SearchAgreements without AgreementType ("AgreementType, which is
// required"), ThrottlingException.
func TestAgreementServiceErrors(t *testing.T) {
	for _, wire := range wires {
		t.Run(wire.name, func(t *testing.T) {
			ctx := context.Background()
			fake := awsfake.NewAgreementService()
			srv := httptest.NewServer(fake)
			defer srv.Close()
			seedAgreementChain(fake, time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC))
			cl := agreementClient(srv.URL, wire.json)
			var nf *matypes.ResourceNotFoundException
			if _, err := cl.DescribeAgreement(ctx, &ma.DescribeAgreementInput{AgreementId: aws.String("agmt-none")}); !errors.As(err, &nf) {
				t.Fatalf("unknown agreement: %v", err)
			}
			if _, err := cl.GetAgreementEntitlements(ctx, &ma.GetAgreementEntitlementsInput{AgreementId: aws.String("agmt-none")}); !errors.As(err, &nf) {
				t.Fatalf("entitlements of an unknown agreement: %v", err)
			}
			var ve *matypes.ValidationException
			if _, err := cl.DescribeAgreement(ctx, &ma.DescribeAgreementInput{AgreementId: aws.String("agmt bad!")}); !errors.As(err, &ve) {
				t.Fatalf("malformed id: %v", err)
			}
			_, err := cl.SearchAgreements(ctx, &ma.SearchAgreementsInput{Filters: []matypes.Filter{{Name: aws.String("Status"), Values: []string{"ACTIVE"}}}})
			if !errors.As(err, &ve) {
				t.Fatalf("search without AgreementType: %v", err)
			}
			_, err = cl.SearchAgreements(ctx, &ma.SearchAgreementsInput{Filters: []matypes.Filter{{Name: aws.String("AgreementType"), Values: []string{"PurchaseAgreement"}},
				{Name: aws.String("Colour"), Values: []string{"blue"}}}})
			if !errors.As(err, &ve) {
				t.Fatalf("unknown filter: %v", err)
			}
			fake.FailNext("ThrottlingException", 1)
			var api smithy.APIError
			if _, err := cl.DescribeAgreement(ctx, &ma.DescribeAgreementInput{AgreementId: aws.String("agmt-new")}); !errors.As(err, &api) || api.ErrorCode() != "ThrottlingException" {
				t.Fatalf("throttled: %v", err)
			}
		})
	}
}

// TestSearchAgreementsFilters: the documented filters narrow the list
// (Status, AcceptorAccountId, EndTimeBehaviorReasonCode, BeforeEndTime and
// AfterEndTime), sorted by EndTime ascending by default, in pages.
func TestSearchAgreementsFilters(t *testing.T) {
	ctx := context.Background()
	fake := awsfake.NewAgreementService()
	srv := httptest.NewServer(fake)
	defer srv.Close()
	start := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	seedAgreementChain(fake, start)
	on := true
	fake.SetTerms("agmt-other", awsfake.AgreementTerms{Start: start.AddDate(0, 6, 0), AutoRenew: &on})
	fake.SetAgreement("agmt-other", awsfake.AgreementInfo{AcceptorAccountID: "444455556666", ProductID: "prod-ca", OfferID: "offer-2"})
	cl := agreementClient(srv.URL, false)
	search := func(filters ...string) []string {
		t.Helper()
		in := &ma.SearchAgreementsInput{MaxResults: aws.Int32(1), Filters: []matypes.Filter{{Name: aws.String("AgreementType"), Values: []string{"PurchaseAgreement"}}}}
		for i := 0; i < len(filters); i += 2 {
			in.Filters = append(in.Filters, matypes.Filter{Name: aws.String(filters[i]), Values: []string{filters[i+1]}})
		}
		var ids []string
		for {
			out, err := cl.SearchAgreements(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range out.AgreementViewSummaries {
				ids = append(ids, aws.ToString(s.AgreementId))
			}
			if out.NextToken == nil {
				return ids
			}
			in.NextToken = out.NextToken
		}
	}
	for _, c := range []struct {
		filters []string
		want    string
	}{
		{nil, "agmt-old,agmt-other,agmt-new"},
		{[]string{"Status", "ACTIVE"}, "agmt-other,agmt-new"},
		{[]string{"AcceptorAccountId", "444455556666"}, "agmt-other"},
		{[]string{"EndTimeBehaviorReasonCode", "ACCEPTOR_RENEW_OPTED_OUT"}, "agmt-new"},
		{[]string{"EndTimeBehaviorType", "RENEW"}, "agmt-other"},
		{[]string{"InitialAgreementId", "agmt-old"}, "agmt-old,agmt-new"},
		{[]string{"AfterEndTime", start.AddDate(1, 3, 0).Format(time.RFC3339)}, "agmt-other,agmt-new"},
		{[]string{"BeforeEndTime", start.AddDate(1, 3, 0).Format(time.RFC3339)}, "agmt-old"},
	} {
		if got := join(search(c.filters...)); got != c.want {
			t.Errorf("%v: %s, want %s", c.filters, got, c.want)
		}
	}
}

func join(s []string) string {
	out := ""
	for i, x := range s {
		if i > 0 {
			out += ","
		}
		out += x
	}
	return out
}

// TestSubscriptionAgreementCached: the agreement page's view is read
// through the SDK once and cached; within AgreementViewMaxAge the cache
// answers (no call); a refresh that AWS throttles keeps the cached view
// with the failure; related agreements name their subscription.
func TestSubscriptionAgreementCached(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		now := time.Now().UTC().Truncate(time.Second)
		st.TestingDB(t).Create(&store.Offer{Marketplace: "aws", Name: "CA", MarketplaceID: "prod-ca", IdentityModel: "concurrent_agreements", CreatedAt: now, UpdatedAt: now})
		fake := awsfake.NewAgreementService()
		srv := httptest.NewServer(fake)
		defer srv.Close()
		seedAgreementChain(fake, now.AddDate(-1, 0, -10))
		p := processor(st)
		p.AWS = &awsmp.Client{Agreement: agreementClient(srv.URL, false), Partition: awsmp.PartitionAWS}
		drain(t, p, event("l-old", "License Updated - Manufacturer", now.Add(-time.Hour), caLicense("111122223333", "old", "agmt-old", "prod-ca")),
			agreementEvent("c-new", "Purchase Agreement Created - Proposer", now, "agmt-new", "RENEW", "ACTIVE", "agmt-old", "prod-ca"))
		var row store.AWSAgreement
		st.TestingReadDB(t).Where("agreement_id = ?", "agmt-old").First(&row)
		if row.SubscriptionID == nil {
			t.Fatal("agmt-old not linked")
		}
		subID := *row.SubscriptionID
		got, err := p.SubscriptionAgreement(ctx, subID, false)
		if err != nil {
			t.Fatal(err)
		}
		if got.AgreementID != "agmt-new" || got.Agreement == nil || got.Agreement.Renewal.TurnedOffBy != "buyer" || got.ReadAt == nil || got.Error != "" {
			t.Fatalf("view: %+v", got)
		}
		if len(got.Agreement.Related) != 1 || got.Agreement.Related[0].SubscriptionID == nil || *got.Agreement.Related[0].SubscriptionID != subID {
			t.Fatalf("related agreement not linked to its subscription: %+v", got.Agreement.Related)
		}
		calls := fake.Calls()
		if _, err := p.SubscriptionAgreement(ctx, subID, false); err != nil || fake.Calls() != calls {
			t.Fatalf("not answered from the cache: %d calls (%v)", fake.Calls()-calls, err)
		}
		fake.FailNext("ThrottlingException", 1)
		got, err = p.SubscriptionAgreement(ctx, subID, true)
		if err != nil || got.Agreement == nil || got.Agreement.AgreementID != "agmt-new" || got.Error == "" {
			t.Fatalf("a throttled refresh keeps the cached view with the failure: %+v %v", got, err)
		}
		if _, err := p.SubscriptionAgreement(ctx, subID+1000, false); !errors.Is(err, awsmp.ErrNoAgreement) {
			t.Fatalf("no agreement: %v", err)
		}
	})
}
