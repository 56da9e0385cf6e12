package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	ma "github.com/aws/aws-sdk-go-v2/service/marketplaceagreement"

	"github.com/marketgate/marketgate/server/awsmp"
	"github.com/marketgate/marketgate/server/sandbox/awsfake"
	"github.com/marketgate/marketgate/store"
	"github.com/marketgate/marketgate/store/storetest"
)

// TestSubscriptionShowsAWSFreeTrial: the subscription's answer carries
// the free trial read from the agreement's terms (GetAgreementTerms,
// FreeTrialPricingTerm of 5 to 31 days), and "unknown" where the
// partition has no Agreement Service.
func TestSubscriptionShowsAWSFreeTrial(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		now := time.Now().UTC().Truncate(time.Second)
		st.TestingDB(t).Create(&store.Offer{Marketplace: "aws", Name: "CA", MarketplaceID: "prod-ca", IdentityModel: "concurrent_agreements", CreatedAt: now, UpdatedAt: now})
		fake := awsfake.NewAgreementService()
		srv := httptest.NewServer(fake)
		defer srv.Close()
		start := now.Truncate(24 * time.Hour)
		fake.SetTerms("agmt-1", awsfake.AgreementTerms{FreeTrialDays: 21, Start: start})
		log := slog.New(slog.NewTextHandler(io.Discard, nil))
		p := &awsmp.Processor{Store: st, Log: log, AWS: &awsmp.Client{Agreement: ma.New(ma.Options{Region: "us-east-1",
			BaseEndpoint: aws.String(srv.URL), RetryMaxAttempts: 1, Credentials: credentials.NewStaticCredentialsProvider("t", "t", "")})}}
		eusc := &awsmp.Processor{Store: st, Log: log, AWS: &awsmp.Client{Partition: awsmp.PartitionEUSC}}
		license := func(id, n, agreement string) string {
			b, _ := json.Marshal(map[string]any{"version": "0", "id": id, "detail-type": "License Updated - Manufacturer",
				"source": "aws.agreement-marketplace", "time": now.Format(time.RFC3339), "detail": map[string]any{
					"license": map[string]any{"arn": "arn:aws:license-manager::111122223333:license:l-" + n}, "acceptor": map[string]any{"accountId": "111122223333"},
					"product": map[string]any{"code": "prod-ca"}, "agreement": map[string]any{"id": agreement}}})
			return string(b)
		}
		if err := p.Receive(ctx, license("e-1", "1", "agmt-1"), "q-1"); err != nil {
			t.Fatal(err)
		}
		p.ReadTerms(ctx)
		if err := eusc.Receive(ctx, license("e-2", "2", "agmt-2"), "q-2"); err != nil {
			t.Fatal(err)
		}
		eusc.ReadTerms(ctx)

		e := newEnv(t, st, nil)
		e.user("admin@seller.com", "admin", nil)
		admin := e.login("admin@seller.com")
		var detail struct {
			FreeTrial *struct {
				Status string     `json:"status"`
				Days   *int       `json:"days"`
				EndsAt *time.Time `json:"ends_at"`
				Note   string     `json:"note"`
			} `json:"free_trial"`
			Agreements []struct {
				TermsStatus     string     `json:"terms_status"`
				FreeTrialDays   *int       `json:"free_trial_days"`
				FreeTrialEndsAt *time.Time `json:"free_trial_ends_at"`
			} `json:"agreements"`
			Subscription struct {
				FreeTrial bool `json:"free_trial"`
			} `json:"subscription"`
		}
		subOf := func(n string) uint {
			var s store.Subscription
			st.TestingReadDB(t).Where("aws_license_arn LIKE ?", "%l-"+n).First(&s)
			return s.ID
		}
		admin.get(fmt.Sprintf("/api/subscriptions/%d", subOf("1"))).json(t, &detail)
		ft, want := detail.FreeTrial, start.AddDate(0, 0, 21)
		if ft == nil || ft.Status != "active" || ft.Days == nil || *ft.Days != 21 || ft.EndsAt == nil || !ft.EndsAt.Equal(want) || !detail.Subscription.FreeTrial {
			t.Fatalf("free trial: %+v (subscription flag %v)", ft, detail.Subscription.FreeTrial)
		}
		if len(detail.Agreements) != 1 || detail.Agreements[0].TermsStatus != "read" || *detail.Agreements[0].FreeTrialDays != 21 {
			t.Fatalf("agreements: %+v", detail.Agreements)
		}
		detail.FreeTrial = nil
		admin.get(fmt.Sprintf("/api/subscriptions/%d", subOf("2"))).json(t, &detail)
		if ft := detail.FreeTrial; ft == nil || ft.Status != "unknown" || ft.Note == "" || ft.Days != nil {
			t.Fatalf("European Sovereign Cloud: %+v", ft)
		}
	})
}
