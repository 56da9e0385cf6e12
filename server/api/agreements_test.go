package api_test

import (
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	ma "github.com/aws/aws-sdk-go-v2/service/marketplaceagreement"

	"github.com/marketgate/marketgate/server/api"
	"github.com/marketgate/marketgate/server/awsmp"
	"github.com/marketgate/marketgate/server/sandbox/awsfake"
	"github.com/marketgate/marketgate/store"
	"github.com/marketgate/marketgate/store/storetest"
)

// TestAgreementPageAndRenewals: over HTTP, staff read an AWS
// subscription's agreement as the simulated Agreement Service describes
// it through the real SDK client (terms, dimensions, free trial, renewal,
// related agreements linked to their subscriptions) and the renewals list
// filtered by window and auto-renewal; an Azure subscription has no
// agreement, a throttled refresh keeps the cached view with the reason.
func TestAgreementPageAndRenewals(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		fake := awsfake.NewAgreementService()
		srv := httptest.NewServer(fake)
		defer srv.Close()
		now := time.Now().UTC().Truncate(time.Second)
		start := now.AddDate(-1, 0, 10).Truncate(24 * time.Hour)
		on := true
		fake.SetTerms("agmt-1", awsfake.AgreementTerms{Start: start, FreeTrialDays: 7, Dimensions: []string{"users"}, Pricing: "usage",
			Rates: []awsfake.Rate{{Dimension: "api_calls", Price: "0.002"}}, AutoRenew: &on, RefundPolicy: "No refunds"})
		fake.SetAgreement("agmt-1", awsfake.AgreementInfo{AcceptorAccountID: "111122223333", ProductID: "prod-ca", OfferID: "offer-1"})
		fake.Renew("agmt-1", "agmt-2", start.AddDate(1, 0, 0))
		end := now.AddDate(0, 0, 60)
		fake.SetEnd("agmt-2", end) // AWS's end corrects the renewals row when the page reads it
		client := ma.New(ma.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), RetryMaxAttempts: 1,
			Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")})
		proc := &awsmp.Processor{Store: st, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), AWS: &awsmp.Client{Agreement: client}}
		e := newEnvWith(t, st, func(d *api.Deps) { d.AWSAgreements = proc })

		cust := store.Customer{Name: "Contoso", CreatedAt: now, UpdatedAt: now}
		st.TestingDB(t).Create(&cust)
		mk := func(mp, name string) store.Subscription {
			s := store.Subscription{Marketplace: mp, Name: name, State: "active", StateChangedAt: now, CustomerID: &cust.ID, Version: 1, CreatedAt: now, UpdatedAt: now}
			must(t, st.TestingDB(t).Create(&s).Error)
			return s
		}
		old, cur, az := mk("aws", "old"), mk("aws", "current"), mk("azure", "azure")
		for _, a := range []store.AWSAgreement{{AgreementID: "agmt-1", SubscriptionID: &old.ID, CreatedAt: start, UpdatedAt: now},
			{AgreementID: "agmt-2", SubscriptionID: &cur.ID, CreatedAt: now, UpdatedAt: now}} {
			must(t, st.TestingDB(t).Create(&a).Error)
		}
		far := now.AddDate(0, 0, 400)
		days := 60
		must(t, st.TestingDB(t).Create(&store.AgreementRenewal{AgreementID: "agmt-2", SubscriptionID: &cur.ID, EndsAt: &end, DaysBeforeEnd: &days,
			AutoRenew: "false", TurnedOffBy: "buyer", TurnedOffAt: &now, CreatedAt: now, UpdatedAt: now}).Error)
		must(t, st.TestingDB(t).Create(&store.AgreementRenewal{AgreementID: "agmt-9", EndsAt: &far, AutoRenew: "true", CreatedAt: now, UpdatedAt: now}).Error)

		e.user("viewer@seller.com", store.RoleViewer, nil)
		b := e.login("viewer@seller.com")
		var page struct {
			AgreementID string `json:"agreement_id"`
			Error       string
			Agreement   struct {
				Status     string
				Dimensions []struct{ Key, Price string }
				FreeTrial  struct {
					Days int
				} `json:"free_trial"`
				Renewal struct {
					AutoRenew   *bool  `json:"auto_renew"`
					Behavior    string `json:"behavior"`
					TurnedOffBy string `json:"turned_off_by"`
				}
				RefundPolicy string `json:"refund_policy"`
				Related      []struct {
					AgreementID    string `json:"agreement_id"`
					SubscriptionID *uint  `json:"subscription_id"`
					Relation       string
				}
			}
			Renewal *struct {
				DaysBeforeEnd int    `json:"days_before_end"`
				TurnedOffBy   string `json:"turned_off_by"`
			} `json:"renewal_events"`
		}
		r := b.get(fmt.Sprintf("/api/subscriptions/%d/agreement", cur.ID))
		if r.code != 200 {
			t.Fatalf("agreement page: %d %s", r.code, r.body)
		}
		r.json(t, &page)
		ag := page.Agreement
		if page.AgreementID != "agmt-2" || ag.Status != "ACTIVE" || len(ag.Dimensions) != 1 || ag.Dimensions[0].Key != "api_calls" || ag.Dimensions[0].Price != "0.002" ||
			ag.FreeTrial.Days != 7 || ag.Renewal.AutoRenew == nil || !*ag.Renewal.AutoRenew || ag.Renewal.Behavior != "RENEW" || ag.RefundPolicy != "No refunds" {
			t.Fatalf("agreement page: %s", r.body)
		}
		if len(ag.Related) != 1 || ag.Related[0].AgreementID != "agmt-1" || ag.Related[0].Relation != "earlier" || ag.Related[0].SubscriptionID == nil || *ag.Related[0].SubscriptionID != old.ID {
			t.Fatalf("related agreements: %s", r.body)
		}
		if page.Renewal == nil || page.Renewal.DaysBeforeEnd != 60 || page.Renewal.TurnedOffBy != "buyer" {
			t.Fatalf("renewal events: %s", r.body)
		}
		fake.FailNext("ThrottlingException", 1)
		page.Error = ""
		b.get(fmt.Sprintf("/api/subscriptions/%d/agreement?refresh=true", cur.ID)).json(t, &page)
		if page.Error == "" || page.AgreementID != "agmt-2" || page.Agreement.Status != "ACTIVE" {
			t.Fatalf("throttled refresh: %+v", page)
		}
		b.get(fmt.Sprintf("/api/subscriptions/%d/agreement", az.ID)).errCode(t, 404, "not_found")
		b.get(fmt.Sprintf("/api/subscriptions/%d/agreement?refresh=maybe", cur.ID)).errCode(t, 400, "invalid_input")

		var rl struct {
			Items []struct {
				AgreementID    string `json:"agreement_id"`
				SubscriptionID *uint  `json:"subscription_id"`
				CustomerName   string `json:"customer_name"`
				AutoRenew      *bool  `json:"auto_renew"`
			}
		}
		b.get("/api/renewals").json(t, &rl)
		if len(rl.Items) != 1 || rl.Items[0].AgreementID != "agmt-2" || rl.Items[0].CustomerName != "Contoso" || *rl.Items[0].SubscriptionID != cur.ID {
			t.Fatalf("renewals within 180 days: %+v", rl.Items)
		}
		b.get("/api/renewals?all=true").json(t, &rl)
		if len(rl.Items) != 2 || rl.Items[1].AgreementID != "agmt-9" {
			t.Fatalf("all renewals: %+v", rl.Items)
		}
		b.get("/api/renewals?all=true&auto_renew_off=true").json(t, &rl)
		if len(rl.Items) != 1 || rl.Items[0].AgreementID != "agmt-2" || *rl.Items[0].AutoRenew {
			t.Fatalf("auto-renewal off: %+v", rl.Items)
		}
		b.get("/api/renewals?window=30").json(t, &rl)
		if len(rl.Items) != 0 {
			t.Fatalf("within 30 days: %+v", rl.Items)
		}
		b.get("/api/renewals?window=0").errCode(t, 400, "invalid_input")
	})
}
