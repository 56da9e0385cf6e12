package awsmp_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	ma "github.com/aws/aws-sdk-go-v2/service/marketplaceagreement"
	"github.com/aws/aws-sdk-go-v2/service/marketplaceagreement/schemas"
	me "github.com/aws/aws-sdk-go-v2/service/marketplaceentitlementservice"
	"github.com/aws/smithy-go/transport/http/protocol/awsjson"

	"github.com/marketgate/marketgate/server/awsmp"
	"github.com/marketgate/marketgate/server/sandbox/awsfake"
	"github.com/marketgate/marketgate/store"
	"github.com/marketgate/marketgate/store/storetest"
)

// agreementClient is the real SDK client against the fake. The SDK
// (marketplaceagreement v1.30.8) speaks Smithy RPC v2 CBOR by default;
// json switches it to AWS JSON 1.0, the service's other protocol.
func agreementClient(url string, json bool) *ma.Client {
	return ma.New(ma.Options{Region: "us-east-1", BaseEndpoint: aws.String(url), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")}, func(o *ma.Options) {
		if json {
			o.Protocol = awsjson.New10(schemas.AWSMPCommerceService_v20200301)
		}
	})
}

// TestFreeTrialFromAgreementTerms: "FreeTrialPricingTerm — Duration of the
// free trial period (5–31 days)" (GetAgreementTerms, AcceptedTerm). Once
// License Updated links the agreement, its terms are read (every page),
// the trial's days and end (the agreement's start plus the duration) are
// stored, the subscription is flagged as a free trial, and the portal's
// summary says until when. Both wire protocols the service speaks.
func TestFreeTrialFromAgreementTerms(t *testing.T) {
	for _, wire := range []struct {
		name string
		json bool
	}{{"rpcv2-cbor", false}, {"awsjson1.0", true}} {
		t.Run(wire.name, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, st *store.Store) {
				ctx := context.Background()
				now := time.Now().UTC().Truncate(time.Second)
				st.TestingDB(t).Create(&store.Offer{Marketplace: "aws", Name: "CA", MarketplaceID: "prod-ca", IdentityModel: "concurrent_agreements", CreatedAt: now, UpdatedAt: now})
				fake := awsfake.NewAgreementService()
				srv := httptest.NewServer(fake)
				defer srv.Close()
				p := processor(st)
				p.AWS = &awsmp.Client{Agreement: agreementClient(srv.URL, wire.json), Partition: awsmp.PartitionAWS}
				start := now.Add(-48 * time.Hour).Truncate(24 * time.Hour)
				fake.SetTerms("agmt-t", awsfake.AgreementTerms{FreeTrialDays: 14, Start: start, Dimensions: []string{"api_calls"}})
				fake.SetTerms("agmt-n", awsfake.AgreementTerms{Start: start})

				// An agreement not linked yet is not read.
				drain(t, p, agreementEvent("c-t", "Purchase Agreement Created - Proposer", now, "agmt-t", "NEW", "ACTIVE", "", "prod-ca"))
				if n := p.ReadTerms(ctx); n != 0 || fake.Calls() != 0 {
					t.Fatalf("read %d unlinked agreements (%d calls)", n, fake.Calls())
				}
				drain(t, p, event("l-t", "License Updated - Manufacturer", now, caLicense("111122223333", "t", "agmt-t", "prod-ca")),
					event("l-n", "License Updated - Manufacturer", now, caLicense("111122223333", "n", "agmt-n", "prod-ca")))
				if n := p.ReadTerms(ctx); n != 2 {
					t.Fatalf("read %d agreements, want 2", n)
				}
				if fake.Calls() < 3 {
					t.Fatalf("%d calls: the terms come in pages of 2 and every page must be read", fake.Calls())
				}
				var a store.AWSAgreement
				st.TestingReadDB(t).Where("agreement_id = ?", "agmt-t").First(&a)
				wantEnd := start.AddDate(0, 0, 14)
				if a.TermsStatus != "read" || a.FreeTrialDays == nil || *a.FreeTrialDays != 14 || a.FreeTrialEndsAt == nil || !a.FreeTrialEndsAt.Equal(wantEnd) {
					t.Fatalf("agreement terms: %+v", a)
				}
				var sub store.Subscription
				st.TestingReadDB(t).First(&sub, *a.SubscriptionID)
				if !sub.FreeTrial {
					t.Fatal("the subscription is not flagged as a free trial")
				}
				ft := awsmp.FreeTrialOf([]store.AWSAgreement{a}, now)
				if ft.Status != "active" || ft.EndsAt == nil || !ft.EndsAt.Equal(wantEnd) || *ft.Days != 14 {
					t.Fatalf("free trial: %+v", ft)
				}
				if ft := awsmp.FreeTrialOf([]store.AWSAgreement{a}, wantEnd); ft.Status != "ended" {
					t.Fatalf("after its end: %+v", ft)
				}
				var b store.AWSAgreement
				st.TestingReadDB(t).Where("agreement_id = ?", "agmt-n").First(&b)
				if b.TermsStatus != "read" || b.FreeTrialDays != nil {
					t.Fatalf("no trial: %+v", b)
				}
				if ft := awsmp.FreeTrialOf([]store.AWSAgreement{b}, now); ft.Status != "none" {
					t.Fatalf("no trial: %+v", ft)
				}
				// Read once: a second pass reads nothing.
				calls := fake.Calls()
				if n := p.ReadTerms(ctx); n != 0 || fake.Calls() != calls {
					t.Fatalf("terms read again: %d", n)
				}
			})
		})
	}
}

// TestAgreementTermsFailuresRetry: ThrottlingException and
// InternalServerException are transient; a failed read is kept as "error"
// with the reason and retried later, and never fails the SQS message.
func TestAgreementTermsFailuresRetry(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		now := time.Now().UTC().Truncate(time.Second)
		st.TestingDB(t).Create(&store.Offer{Marketplace: "aws", Name: "CA", MarketplaceID: "prod-ca", IdentityModel: "concurrent_agreements", CreatedAt: now, UpdatedAt: now})
		fake := awsfake.NewAgreementService()
		srv := httptest.NewServer(fake)
		defer srv.Close()
		p := processor(st)
		p.AWS = &awsmp.Client{Agreement: agreementClient(srv.URL, false)}
		fake.SetTerms("agmt-r", awsfake.AgreementTerms{FreeTrialDays: 7, Start: now})
		fake.FailNext("ThrottlingException", 1)
		drain(t, p, event("l-r", "License Updated - Manufacturer", now, caLicense("111122223333", "r", "agmt-r", "prod-ca")))
		var m store.InboxMessage
		st.TestingReadDB(t).Where("dedup_key = ?", "event:l-r").First(&m)
		if m.Status != store.InboxProcessed {
			t.Fatalf("message: %+v", m)
		}
		p.ReadTerms(ctx)
		var a store.AWSAgreement
		st.TestingReadDB(t).Where("agreement_id = ?", "agmt-r").First(&a)
		if a.TermsStatus != "error" || a.TermsAttempts != 1 || a.TermsNextAt == nil || !a.TermsNextAt.After(now) || a.TermsError == "" {
			t.Fatalf("after a throttled read: %+v", a)
		}
		if n := p.ReadTerms(ctx); n != 0 {
			t.Fatal("retried before its time")
		}
		st.TestingDB(t).Model(&store.AWSAgreement{}).Where("id = ?", a.ID).Update("terms_next_at", now.Add(-time.Second))
		p.ReadTerms(ctx)
		st.TestingReadDB(t).First(&a, a.ID)
		if a.TermsStatus != "read" || a.FreeTrialDays == nil || *a.FreeTrialDays != 7 {
			t.Fatalf("after the retry: %+v", a)
		}
		// AWS's refusal (here: no such agreement for this seller) is final:
		// not retried, the free trial unknown with the reason.
		drain(t, p, event("l-x", "License Updated - Manufacturer", now, caLicense("111122223333", "x", "agmt-x", "prod-ca")))
		p.ReadTerms(ctx)
		var x store.AWSAgreement
		st.TestingReadDB(t).Where("agreement_id = ?", "agmt-x").First(&x)
		if x.TermsStatus != "error" || x.TermsNextAt != nil || !strings.Contains(x.TermsError, "ResourceNotFoundException") {
			t.Fatalf("refused read: %+v", x)
		}
		calls := fake.Calls()
		if p.ReadTerms(ctx); fake.Calls() != calls {
			t.Fatal("a refused read was retried")
		}
		if ft := awsmp.FreeTrialOf([]store.AWSAgreement{x}, now); ft.Status != "unknown" || !strings.Contains(ft.Note, "ResourceNotFoundException") {
			t.Fatalf("free trial after a refusal: %+v", ft)
		}
	})
}

// TestEuropeanSovereignCloudHasNoAgreementTerms: the AWS European
// Sovereign Cloud partition has no Agreement Service. Marketgate still
// processes every message there; the free trial is "unknown", not an error.
func TestEuropeanSovereignCloudHasNoAgreementTerms(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		now := time.Now().UTC().Truncate(time.Second)
		st.TestingDB(t).Create(&store.Offer{Marketplace: "aws", Name: "CA", MarketplaceID: "prod-ca", IdentityModel: "concurrent_agreements", CreatedAt: now, UpdatedAt: now})
		client, err := awsmp.New(ctx, awsmp.Config{Region: "eusc-de-east-1", Partition: awsmp.PartitionEUSC, StaticKeys: true})
		if err != nil {
			t.Fatal(err)
		}
		if client.Agreement != nil {
			t.Fatal("an Agreement Service client in a partition without the service")
		}
		if r := client.Entitlement.(interface{ Options() me.Options }).Options().Region; r != "eusc-de-east-1" {
			t.Fatalf("entitlement region %q in the European Sovereign Cloud", r)
		}
		p := processor(st)
		p.AWS = client
		drain(t, p, event("l-e", "License Updated - Manufacturer", now, caLicense("111122223333", "e", "agmt-e", "prod-ca")))
		p.ReadTerms(ctx)
		var a store.AWSAgreement
		st.TestingReadDB(t).Where("agreement_id = ?", "agmt-e").First(&a)
		var sub store.Subscription
		st.TestingReadDB(t).First(&sub, *a.SubscriptionID)
		if a.TermsStatus != "unavailable" || a.TermsError != "" || sub.State != "active" {
			t.Fatalf("agreement %+v, subscription %s", a, sub.State)
		}
		if ft := awsmp.FreeTrialOf([]store.AWSAgreement{a}, now); ft.Status != "unknown" || ft.Note == "" {
			t.Fatalf("free trial: %+v", ft)
		}
		// An explicit endpoint turns the service on in any partition.
		client, _ = awsmp.New(ctx, awsmp.Config{Partition: awsmp.PartitionEUSC, AgreementEndpoint: "http://127.0.0.1:1", StaticKeys: true})
		if client.Agreement == nil {
			t.Fatal("--aws-agreement-endpoint did not enable the Agreement Service")
		}
		if awsmp.CheckPartition("aws-moon") == nil {
			t.Fatal("an unknown partition was accepted")
		}
	})
}

// TestAgreementFakeFollowsTheWireContract: the fake answers AWS JSON 1.0
// on POST / with X-Amz-Target AWSMPCommerceService_v20200301.GetAgreementTerms,
// camelCase members, epoch-second timestamps, unions as one-member objects,
// and AWS's errors (ValidationException with its reason,
// ResourceNotFoundException).
func TestAgreementFakeFollowsTheWireContract(t *testing.T) {
	fake := awsfake.NewAgreementService()
	fake.PageSize = 10
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	fake.SetTerms("agmt-1", awsfake.AgreementTerms{FreeTrialDays: 30, Start: start})
	call := func(body string) (int, map[string]any) {
		req := httptest.NewRequest(http.MethodPost, "/", bytes.NewBufferString(body))
		req.Header.Set("X-Amz-Target", "AWSMPCommerceService_v20200301.GetAgreementTerms")
		req.Header.Set("Content-Type", "application/x-amz-json-1.0")
		w := httptest.NewRecorder()
		fake.ServeHTTP(w, req)
		var out map[string]any
		_ = json.Unmarshal(w.Body.Bytes(), &out)
		return w.Code, out
	}
	code, out := call(`{"agreementId":"agmt-1"}`)
	terms, _ := out["acceptedTerms"].([]any)
	if code != 200 || len(terms) != 3 {
		t.Fatalf("%d %v", code, out)
	}
	var trial, validity map[string]any
	for _, x := range terms {
		m := x.(map[string]any)
		if len(m) != 1 {
			t.Fatalf("a union with %d members: %v", len(m), m)
		}
		if v, ok := m["freeTrialPricingTerm"].(map[string]any); ok {
			trial = v
		}
		if v, ok := m["validityTerm"].(map[string]any); ok {
			validity = v
		}
	}
	if trial["duration"] != "P30D" || trial["type"] != "FreeTrialPricingTerm" || validity["agreementStartDate"] != float64(start.Unix()) {
		t.Fatalf("trial %v validity %v", trial, validity)
	}
	for _, c := range []struct {
		body, code, reason string
	}{
		{`{}`, "ValidationException", "MISSING_AGREEMENT_ID"},
		{`{"agreementId":"agmt 1!"}`, "ValidationException", "INVALID_AGREEMENT_ID"},
		{`{"agreementId":"agmt-1","maxResults":500}`, "ValidationException", "INVALID_MAX_RESULTS"},
		{`{"agreementId":"agmt-1","nextToken":"bogus"}`, "ValidationException", "INVALID_NEXT_TOKEN"},
		{`{"agreementId":"agmt-404"}`, "ResourceNotFoundException", ""},
	} {
		status, out := call(c.body)
		if status != 400 || out["__type"] != c.code || (c.reason != "" && out["reason"] != c.reason) || out["message"] == "" {
			t.Errorf("%s: %d %v", c.body, status, out)
		}
	}
}

// TestAgreementTermsDuration: durations are ISO 8601; AWS allows 5 to 31
// days. An unreadable one still marks a free trial, of unknown length.
func TestAgreementTermsDuration(t *testing.T) {
	fake := awsfake.NewAgreementService()
	srv := httptest.NewServer(fake)
	defer srv.Close()
	c := &awsmp.Client{Agreement: agreementClient(srv.URL, false)}
	for _, days := range []int{5, 14, 31} {
		fake.SetTerms("agmt-d", awsfake.AgreementTerms{FreeTrialDays: days})
		terms, err := c.GetAgreementTerms(context.Background(), "agmt-d")
		if err != nil || !terms.FreeTrial || terms.FreeTrialDays != days {
			t.Fatalf("%d days: %+v %v", days, terms, err)
		}
	}
	if _, err := c.GetAgreementTerms(context.Background(), "agmt-missing"); err == nil {
		t.Fatal("no error for an unknown agreement")
	}
	var none *awsmp.Client
	if _, err := none.GetAgreementTerms(context.Background(), "agmt-d"); err != awsmp.ErrNoAgreementAPI {
		t.Fatalf("no client: %v", err)
	}
}

// TestAgreementTermsBacklogReadInOneRun: a first start on a database with
// many linked agreements not read yet (a migration, the sandbox's demo
// data) reads them all in one run of the job, not 20 every 5 seconds: an
// agreement linked after the backlog waits one run, not minutes.
func TestAgreementTermsBacklogReadInOneRun(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		now := time.Now().UTC().Truncate(time.Second)
		st.TestingDB(t).Create(&store.Offer{Marketplace: "aws", Name: "CA", MarketplaceID: "prod-ca", IdentityModel: "concurrent_agreements", CreatedAt: now, UpdatedAt: now})
		fake := awsfake.NewAgreementService()
		srv := httptest.NewServer(fake)
		defer srv.Close()
		p := processor(st)
		p.AWS = &awsmp.Client{Agreement: agreementClient(srv.URL, false), Partition: awsmp.PartitionAWS}
		const n = 45
		for i := 0; i < n; i++ {
			id := fmt.Sprintf("agmt-%02d", i)
			if i%3 != 0 { // a third unknown to AWS: refused for good, still looked at once
				fake.SetTerms(id, awsfake.AgreementTerms{Start: now, FreeTrialDays: 7})
			}
			drain(t, p, event(fmt.Sprintf("l-%d", i), "License Updated - Manufacturer", now, caLicense("111122223333", fmt.Sprint(i), id, "prod-ca")))
		}
		if got := p.ReadTerms(ctx); got != n {
			t.Fatalf("one run looked at %d agreements, want all %d", got, n)
		}
		var unread int64
		st.TestingReadDB(t).Model(&store.AWSAgreement{}).Where("terms_status = ''").Count(&unread)
		if unread != 0 {
			t.Fatalf("%d agreements left unread after one run", unread)
		}
		if got := p.ReadTerms(ctx); got != 0 {
			t.Fatalf("a second run looked at %d agreements", got)
		}
	})
}
