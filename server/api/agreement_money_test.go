package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
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

// TestAgreementMoneyOverHTTP: refunds, cancellation requests and payment
// requests are admin-only (an operator gets 403), need the admin's
// confirmation of the stated consequence, refuse bad amounts with AWS's
// rules before calling (a stable field code), and are audited with before
// and after. The customer admin reads their own agreement's charges and
// the request waiting for them, and can act on none of it.
func TestAgreementMoneyOverHTTP(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		now := time.Now().UTC().Truncate(time.Second)
		st.TestingDB(t).Create(&store.Offer{Marketplace: "aws", Name: "CA", MarketplaceID: "prod-ca", IdentityModel: "concurrent_agreements", CreatedAt: now, UpdatedAt: now})
		fake := awsfake.NewAgreementService()
		srv := httptest.NewServer(fake)
		defer srv.Close()
		fake.SetTerms("agmt-h", awsfake.AgreementTerms{Start: now.AddDate(0, -1, 0)})
		fake.SetInvoice("agmt-h", awsfake.Invoice{ID: "inv-1", Amount: "100.00", Currency: "USD", Issued: now.AddDate(0, 0, -2)})
		fake.SetVariablePayment("agmt-h", awsfake.VariablePayment{TermID: "term-v", MaxTotal: "500.00", Currency: "USD"})
		log := slog.New(slog.NewTextHandler(io.Discard, nil))
		client := &awsmp.Client{Agreement: ma.New(ma.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), RetryMaxAttempts: 1,
			Credentials: credentials.NewStaticCredentialsProvider("t", "t", "")})}
		p := &awsmp.Processor{Store: st, Log: log, AWS: client}
		b, _ := json.Marshal(map[string]any{"version": "0", "id": "e-h", "detail-type": "License Updated - Manufacturer",
			"source": "aws.agreement-marketplace", "time": now.Format(time.RFC3339), "detail": map[string]any{
				"license": map[string]any{"arn": "arn:aws:license-manager::111122223333:license:l-h"}, "acceptor": map[string]any{"accountId": "111122223333"},
				"product": map[string]any{"code": "prod-ca"}, "agreement": map[string]any{"id": "agmt-h"}}})
		if err := p.Receive(ctx, string(b), "q-h"); err != nil {
			t.Fatal(err)
		}
		var sub store.Subscription
		st.TestingReadDB(t).Where("aws_license_arn LIKE ?", "%l-h").First(&sub)
		cust := store.Customer{Name: "Contoso", CreatedAt: now, UpdatedAt: now}
		must(t, st.TestingDB(t).Create(&cust).Error)
		must(t, st.TestingDB(t).Model(&store.Subscription{}).Where("id = ?", sub.ID).Update("customer_id", cust.ID).Error)

		e := newEnvWith(t, st, func(d *api.Deps) { d.AWSMoney = &awsmp.Money{Store: st, AWS: client, Log: log} })
		e.user("admin@seller.com", store.RoleAdmin, nil)
		e.user("ops@seller.com", store.RoleOperator, nil)
		e.user("it@contoso.com", store.RoleCustomerAdmin, &cust.ID)
		admin, ops, it := e.login("admin@seller.com"), e.login("ops@seller.com"), e.login("it@contoso.com")
		base := fmt.Sprintf("/api/subscriptions/%d/agreement", sub.ID)

		var money struct {
			Available bool `json:"available"`
			Invoices  []struct {
				InvoiceID     string `json:"invoice_id"`
				MaxRefundable string `json:"max_refundable"`
			} `json:"invoices"`
			Remaining     string   `json:"remaining"`
			RefundReasons []string `json:"refund_reasons"`
			Requests      []struct {
				Kind    string `json:"kind"`
				Status  string `json:"status"`
				History []struct {
					Status string `json:"status"`
				} `json:"history"`
			} `json:"requests"`
		}
		r := ops.get(base + "/money")
		if r.code != 200 {
			t.Fatalf("staff read: %d %s", r.code, r.body)
		}
		r.json(t, &money)
		if !money.Available || len(money.Invoices) != 1 || money.Invoices[0].MaxRefundable != "100.00" || money.Remaining != "500.00" || len(money.RefundReasons) != 7 {
			t.Fatalf("money: %s", r.body)
		}

		refund := `{"invoice_id":"inv-1","amount":"30.00","reason_code":"BUYER_DISSATISFACTION","note":"outage","confirm":true}`
		ops.do(http.MethodPost, base+"/refunds", refund, nil).errCode(t, 403, "forbidden")
		it.do(http.MethodPost, base+"/refunds", refund, nil).errCode(t, 403, "forbidden")
		r = admin.do(http.MethodPost, base+"/refunds", strings.Replace(refund, `"confirm":true`, `"confirm":false`, 1), nil)
		r.errCode(t, 400, "invalid_input")
		if !strings.Contains(string(r.body), "confirmation_required") || !strings.Contains(string(r.body), "cannot be undone") {
			t.Fatalf("no confirmation stating the consequence: %s", r.body)
		}
		r = admin.do(http.MethodPost, base+"/refunds", strings.Replace(refund, "30.00", "100.50", 1), nil)
		r.errCode(t, 400, "invalid_input")
		if !strings.Contains(string(r.body), "amount_exceeds_refundable") || fake.Refunds("agmt-h") != 0 {
			t.Fatalf("over the refundable amount: %s", r.body)
		}
		r = admin.do(http.MethodPost, base+"/refunds", refund, map[string]string{"Idempotency-Key": "r-1"})
		if r.code != 201 || reqField(t, r.body, "status") != "pending" {
			t.Fatalf("refund: %d %s", r.code, r.body)
		}
		if again := admin.do(http.MethodPost, base+"/refunds", refund, map[string]string{"Idempotency-Key": "r-1"}); again.code != 201 || fake.Refunds("agmt-h") != 1 {
			t.Fatalf("the same key again: %d, %d refunds", again.code, fake.Refunds("agmt-h"))
		}

		cancel := `{"reason_code":"TEST_AGREEMENT","note":"a test purchase","confirm":true}`
		ops.do(http.MethodPost, base+"/cancellation-requests", cancel, nil).errCode(t, 403, "forbidden")
		r = admin.do(http.MethodPost, base+"/cancellation-requests", cancel, nil)
		if r.code != 201 || reqField(t, r.body, "respond_by") == "" {
			t.Fatalf("cancellation: %d %s", r.code, r.body)
		}
		admin.do(http.MethodPost, base+"/cancellation-requests", cancel, nil).errCode(t, 409, "conflict")
		cancelID := reqField(t, r.body, "id")

		// The customer admin sees the request waiting for them, and the charges.
		var mine struct {
			Available           bool                      `json:"available"`
			Charges             []struct{ Amount string } `json:"charges"`
			PendingCancellation *struct {
				ReasonCode string     `json:"reason_code"`
				RespondBy  *time.Time `json:"respond_by"`
			} `json:"pending_cancellation"`
		}
		r = it.get(fmt.Sprintf("/api/my/subscriptions/%d/agreement", sub.ID))
		if r.code != 200 {
			t.Fatalf("customer read: %d %s", r.code, r.body)
		}
		r.json(t, &mine)
		if !mine.Available || len(mine.Charges) != 1 || mine.PendingCancellation == nil || mine.PendingCancellation.ReasonCode != "TEST_AGREEMENT" || mine.PendingCancellation.RespondBy == nil {
			t.Fatalf("customer's agreement: %s", r.body)
		}
		if strings.Contains(string(r.body), "admin@seller.com") || strings.Contains(string(r.body), "max_refundable\":\"1") {
			t.Fatalf("the customer sees the seller's internals: %s", r.body)
		}

		withdraw := base + "/requests/" + cancelID + "/withdraw"
		admin.do(http.MethodPost, withdraw, `{"reason":"sent by mistake"}`, nil).errCode(t, 400, "invalid_input")
		ops.do(http.MethodPost, withdraw, `{"reason":"sent by mistake","confirm":true}`, nil).errCode(t, 403, "forbidden")
		r = admin.do(http.MethodPost, withdraw, `{"reason":"sent by mistake","confirm":true}`, nil)
		if r.code != 200 || reqField(t, r.body, "status") != "withdrawn" {
			t.Fatalf("withdraw: %d %s", r.code, r.body)
		}
		admin.do(http.MethodPost, withdraw, `{"reason":"again","confirm":true}`, nil).errCode(t, 409, "conflict")

		pay := `{"amount":"120.00","name":"March overage","confirm":true}`
		admin.do(http.MethodPost, base+"/payment-requests", strings.Replace(pay, "120.00", "500.01", 1), nil).errCode(t, 400, "invalid_input")
		r = admin.do(http.MethodPost, base+"/payment-requests", pay, nil)
		if r.code != 201 || reqField(t, r.body, "status") != "pending" {
			t.Fatalf("payment: %d %s", r.code, r.body)
		}

		ops.get(base+"/money").json(t, &money)
		if len(money.Requests) != 3 || money.Remaining != "380.00" {
			t.Fatalf("requests: %+v remaining %s", money.Requests, money.Remaining)
		}
		for _, q := range money.Requests {
			if len(q.History) < 2 {
				t.Fatalf("history of %s: %+v", q.Kind, q.History)
			}
		}
		var audit []store.AuditEntry
		st.TestingReadDB(t).Where("action LIKE ?", "agreement.%").Order("id").Find(&audit)
		actions := []string{}
		for _, a := range audit {
			actions = append(actions, a.Action)
			if a.After == "" || a.ActorEmail != "admin@seller.com" {
				t.Fatalf("audit without its after or actor: %+v", a)
			}
		}
		want := "agreement.refund agreement.cancellation_request agreement.cancellation_request.withdraw agreement.payment_request"
		if strings.Join(actions, " ") != want {
			t.Fatalf("audit: %v", actions)
		}
		if w := audit[2]; !strings.Contains(w.Before, `"status":"pending"`) || !strings.Contains(w.After, `"status":"withdrawn"`) {
			t.Fatalf("withdraw's before and after: %s → %s", w.Before, w.After)
		}
	})
}

// reqField is a field of an answer's request, as text.
func reqField(t *testing.T, body []byte, key string) string {
	t.Helper()
	var v struct {
		Request map[string]any `json:"request"`
	}
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	switch x := v.Request[key].(type) {
	case string:
		return x
	case float64:
		return fmt.Sprint(x)
	}
	return ""
}
