package awsmp_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ma "github.com/aws/aws-sdk-go-v2/service/marketplaceagreement"
	matypes "github.com/aws/aws-sdk-go-v2/service/marketplaceagreement/types"

	"github.com/marketgate/marketgate/server/awsmp"
	"github.com/marketgate/marketgate/server/sandbox/awsfake"
	"github.com/marketgate/marketgate/store"
	"github.com/marketgate/marketgate/store/storetest"
)

// moneyWorld is a concurrent-agreements subscription whose agreement has
// an invoice of 100.00 USD and a variable-payment term of 1000.00 USD,
// the real SDK client against the fake Agreement Service, and the events
// the fake announces, delivered through the SQS processor.
type moneyWorld struct {
	t       *testing.T
	st      *store.Store
	p       *awsmp.Processor
	fake    *awsfake.AgreementService
	money   *awsmp.Money
	sub     *store.Subscription
	ident   awsfake.Identity
	mu      sync.Mutex
	notices []awsfake.MoneyNotice
	lose    int // responses to drop after AWS handled the call
}

const moneyAgreement = "agmt-money"

func newMoneyWorld(t *testing.T, st *store.Store, json bool) *moneyWorld {
	now := time.Now().UTC().Truncate(time.Second)
	st.TestingDB(t).Create(&store.Offer{Marketplace: "aws", Name: "CA", MarketplaceID: "prod-ca", IdentityModel: "concurrent_agreements", CreatedAt: now, UpdatedAt: now})
	w := &moneyWorld{t: t, st: st, p: processor(st), fake: awsfake.NewAgreementService(),
		ident: awsfake.Identity{ProductCode: "prod-ca", CustomerAWSAccountID: "111122223333", LicenseArn: "arn:aws:license-manager::111122223333:license:l-m"}}
	w.fake.Notify = func(n awsfake.MoneyNotice) { w.mu.Lock(); w.notices = append(w.notices, n); w.mu.Unlock() }
	w.fake.AdjustmentDelay = time.Minute
	srv := httptest.NewServer(w.fake)
	t.Cleanup(srv.Close)
	client := agreementClient(srv.URL, json)
	client = ma.New(client.Options(), func(o *ma.Options) { o.HTTPClient = w })
	w.money = &awsmp.Money{Store: st, AWS: &awsmp.Client{Agreement: client}, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	w.fake.SetTerms(moneyAgreement, awsfake.AgreementTerms{Start: now.AddDate(0, -1, 0)})
	w.fake.SetInvoice(moneyAgreement, awsfake.Invoice{ID: "inv-1", Amount: "100.00", Currency: "USD", Issued: now.AddDate(0, 0, -3)})
	w.fake.SetVariablePayment(moneyAgreement, awsfake.VariablePayment{TermID: "term-variable", MaxTotal: "1000.00", Currency: "USD"})
	drain(t, w.p, event("l-money", "License Updated - Manufacturer", now, caLicense("111122223333", "m", moneyAgreement, "prod-ca")))
	var sub store.Subscription
	st.TestingReadDB(t).Where("aws_license_arn = ?", w.ident.LicenseArn).First(&sub)
	if sub.ID == 0 {
		t.Fatal("no subscription")
	}
	w.sub = &sub
	return w
}

// Do is the SDK's HTTP client: it drops the next lose answers after AWS
// handled the call (a crash or a timeout after the call).
func (w *moneyWorld) Do(r *http.Request) (*http.Response, error) {
	res, err := http.DefaultClient.Do(r)
	w.mu.Lock()
	defer w.mu.Unlock()
	op := r.URL.Path + r.Header.Get("X-Amz-Target")
	if err == nil && w.lose > 0 && (strings.Contains(op, "Send") || strings.Contains(op, "BatchCreate")) {
		w.lose--
		res.Body.Close()
		return nil, errors.New("connection reset by peer (after AWS handled the call)")
	}
	return res, err
}

// deliver puts the events the fake announced on the queue and processes them.
func (w *moneyWorld) deliver() int {
	w.mu.Lock()
	ns := w.notices
	w.notices = nil
	w.mu.Unlock()
	var bodies []string
	for _, n := range ns {
		bodies = append(bodies, n.Bodies(w.ident)...)
	}
	if len(bodies) > 0 {
		drain(w.t, w.p, bodies...)
	}
	return len(ns)
}

func (w *moneyWorld) request(id uint) store.AgreementRequest {
	var r store.AgreementRequest
	w.st.TestingReadDB(w.t).First(&r, id)
	return r
}

func refusedCode(err error) string {
	var re *awsmp.RefusedError
	if errors.As(err, &re) {
		return re.Code
	}
	return ""
}

func eachWire(t *testing.T, fn func(t *testing.T, st *store.Store, json bool)) {
	for _, wire := range []struct {
		name string
		json bool
	}{{"rpcv2-cbor", false}, {"awsjson1.0", true}} {
		t.Run(wire.name, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, st *store.Store) { fn(t, st, wire.json) })
		})
	}
}

// TestAgreementRefunds: ListAgreementInvoiceLineItems and
// ListAgreementCharges through the real SDK; a refund refused before AWS
// is called when "adjustmentAmount … Pattern: [0-9]*(\.[0-9]{0,8})?" does
// not hold or when it "exceeds the maximum refundable amount for the
// invoice"; a refund sent (PENDING), completed by the Billing Adjustment
// Completed event, which lowers what is left to refund; a failed one
// (VALIDATION_FAILED) read by polling.
func TestAgreementRefunds(t *testing.T) {
	eachWire(t, func(t *testing.T, st *store.Store, json bool) {
		ctx := context.Background()
		w := newMoneyWorld(t, st, json)
		b, err := w.money.Billing(ctx, moneyAgreement)
		if err != nil || len(b.Invoices) != 1 || b.Invoices[0].MaxRefundable != "100.00" || len(b.Charges) != 1 || b.Variable == nil || b.Variable.MaxTotal != "1000.00" {
			t.Fatalf("billing: %+v %v", b, err)
		}
		calls := w.fake.Calls()
		if _, err := w.money.Refund(ctx, w.sub, moneyAgreement, awsmp.RefundInput{InvoiceID: "inv-1", Amount: "1.123456789", Reason: "OTHER"}, awsmp.Action{Actor: "a@x"}); refusedCode(err) != "amount_invalid" || w.fake.Calls() != calls {
			t.Fatalf("9 decimals: %v (calls %d → %d)", err, calls, w.fake.Calls())
		}
		if _, err := w.money.Refund(ctx, w.sub, moneyAgreement, awsmp.RefundInput{InvoiceID: "inv-1", Amount: "40", Reason: "NOT_A_CODE"}, awsmp.Action{}); refusedCode(err) != "reason_invalid" {
			t.Fatalf("reason: %v", err)
		}
		if _, err := w.money.Refund(ctx, w.sub, moneyAgreement, awsmp.RefundInput{InvoiceID: "inv-1", Amount: "100.01", Reason: "OTHER"}, awsmp.Action{}); refusedCode(err) != "amount_exceeds_refundable" || w.fake.Refunds(moneyAgreement) != 0 {
			t.Fatalf("over the maximum: %v", err)
		}
		r, err := w.money.Refund(ctx, w.sub, moneyAgreement, awsmp.RefundInput{InvoiceID: "inv-1", Amount: "40.00", Reason: "BUYER_DISSATISFACTION", Note: "outage"}, awsmp.Action{Actor: "a@x"})
		if err != nil || r.Status != store.RequestPending || r.ExternalID == "" || r.Currency != "USD" {
			t.Fatalf("refund: %+v %v", r, err)
		}
		w.fake.Elapse(2 * time.Minute)
		if n := w.deliver(); n != 1 {
			t.Fatalf("%d events, want Billing Adjustment Completed", n)
		}
		if got := w.request(r.ID); got.Status != store.RequestCompleted || got.AWSStatus != "COMPLETED" {
			t.Fatalf("after the event: %+v", got)
		}
		b, _ = w.money.Billing(ctx, moneyAgreement)
		if b.Invoices[0].MaxRefundable != "60.00" || len(b.Invoices) != 2 || b.Invoices[1].Type != "CREDIT_MEMO" {
			t.Fatalf("after the refund: %+v", b.Invoices)
		}
		// A refund AWS fails later: polling reads VALIDATION_FAILED.
		w.fake.FailRefunds("inv-1", "the invoice is in dispute")
		r2, err := w.money.Refund(ctx, w.sub, moneyAgreement, awsmp.RefundInput{InvoiceID: "inv-1", Amount: "10", Reason: "OTHER"}, awsmp.Action{})
		if err != nil {
			t.Fatal(err)
		}
		w.fake.Notify = nil
		w.fake.Elapse(2 * time.Minute)
		if err := w.money.Check(ctx, r2); err != nil {
			t.Fatal(err)
		}
		if got := w.request(r2.ID); got.Status != store.RequestFailed || got.StatusMessage != "the invoice is in dispute" {
			t.Fatalf("failed refund: %+v", got)
		}
	})
}

// TestRefundCrashSafety: the request row and its ClientToken are stored
// before AWS is called ("Each entry requires a unique clientToken for
// idempotency"); when the answer is lost after AWS made the refund, the
// retry (the same Idempotency-Key, or the tracker) sends the same token
// and AWS makes no second refund.
func TestRefundCrashSafety(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := newMoneyWorld(t, st, false)
		in := awsmp.RefundInput{InvoiceID: "inv-1", Amount: "25", Reason: "INCORRECT_METERING"}
		w.lose = 1
		r, err := w.money.Refund(ctx, w.sub, moneyAgreement, in, awsmp.Action{Actor: "a@x", IdempotencyKey: "k-1"})
		if err == nil {
			t.Fatal("a lost answer must fail the call")
		}
		if w.fake.Refunds(moneyAgreement) != 1 {
			t.Fatalf("AWS made %d refunds", w.fake.Refunds(moneyAgreement))
		}
		if got := w.request(r.ID); got.Status != store.RequestSending || got.ClientToken == "" {
			t.Fatalf("after the lost answer: %+v", got)
		}
		again, err := w.money.Refund(ctx, w.sub, moneyAgreement, in, awsmp.Action{Actor: "a@x", IdempotencyKey: "k-1"})
		if err != nil || again.ID != r.ID || again.Status != store.RequestPending {
			t.Fatalf("retry: %+v %v", again, err)
		}
		if w.fake.Refunds(moneyAgreement) != 1 {
			t.Fatalf("the retry made a second refund: %d", w.fake.Refunds(moneyAgreement))
		}
		// The tracker resends a request left sending, with its token.
		w.lose = 1
		r2, _ := w.money.Refund(ctx, w.sub, moneyAgreement, awsmp.RefundInput{InvoiceID: "inv-1", Amount: "5", Reason: "OTHER"}, awsmp.Action{})
		st.TestingDB(t).Model(&store.AgreementRequest{}).Where("id = ?", r2.ID).Update("next_check_at", time.Now().Add(-time.Minute))
		w.money.Track(ctx)
		if got := w.request(r2.ID); got.Status != store.RequestPending || w.fake.Refunds(moneyAgreement) != 2 {
			t.Fatalf("tracked: %+v, %d refunds", got, w.fake.Refunds(moneyAgreement))
		}
		var steps int64
		st.TestingReadDB(t).Model(&store.AgreementRequestEvent{}).Where("request_id = ?", r.ID).Count(&steps)
		if steps != 2 {
			t.Fatalf("%d history steps, want sending then pending", steps)
		}
	})
}

// TestAgreementCancellationRequests: "Agreement Cancellation Request
// Pending Approval … You have 7 days to approve or deny the request. If
// you don't respond, the cancellation is automatically approved." One
// request waits at a time; the seller withdraws one (Cancelled); the
// buyer rejects one (Rejected); nobody answers the third, which is
// approved after 7 days, and Purchase Agreement Ended ends the
// subscription through the lifecycle.
func TestAgreementCancellationRequests(t *testing.T) {
	eachWire(t, func(t *testing.T, st *store.Store, json bool) {
		ctx := context.Background()
		w := newMoneyWorld(t, st, json)
		if _, err := w.money.RequestCancellation(ctx, w.sub, moneyAgreement, awsmp.CancellationInput{Reason: "WRONG"}, awsmp.Action{}); refusedCode(err) != "reason_invalid" {
			t.Fatalf("reason: %v", err)
		}
		r, err := w.money.RequestCancellation(ctx, w.sub, moneyAgreement, awsmp.CancellationInput{Reason: "TEST_AGREEMENT", Note: "a test"}, awsmp.Action{Actor: "a@x"})
		if err != nil || r.Status != store.RequestPending || r.RespondBy == nil || r.RespondBy.Sub(r.CreatedAt).Round(time.Minute) != 7*24*time.Hour {
			t.Fatalf("request: %+v %v", r, err)
		}
		if _, err := w.money.RequestCancellation(ctx, w.sub, moneyAgreement, awsmp.CancellationInput{Reason: "OTHER"}, awsmp.Action{}); !errors.Is(err, awsmp.ErrRequestOpen) {
			t.Fatalf("a second while one waits: %v", err)
		}
		if err := w.money.Withdraw(ctx, r, "", "a@x"); refusedCode(err) != "reason_invalid" {
			t.Fatalf("withdraw without a reason: %v", err)
		}
		if err := w.money.Withdraw(ctx, r, "sent by mistake", "a@x"); err != nil {
			t.Fatal(err)
		}
		if got := w.request(r.ID); got.Status != store.RequestWithdrawn || got.WithdrawnBy != "a@x" {
			t.Fatalf("withdrawn: %+v", got)
		}
		w.deliver() // Pending Approval, Cancelled: already known
		r2, err := w.money.RequestCancellation(ctx, w.sub, moneyAgreement, awsmp.CancellationInput{Reason: "REPLACING_AGREEMENT"}, awsmp.Action{})
		if err != nil {
			t.Fatal(err)
		}
		if err := w.fake.AnswerCancellation(moneyAgreement, r2.ExternalID, false, "we still use it"); err != nil {
			t.Fatal(err)
		}
		w.deliver()
		if got := w.request(r2.ID); got.Status != store.RequestRejected || got.StatusMessage != "we still use it" {
			t.Fatalf("rejected: %+v", got)
		}
		if err := w.money.Withdraw(ctx, &store.AgreementRequest{ID: r2.ID, Kind: store.AgreementCancellation, Status: store.RequestPending,
			ExternalID: r2.ExternalID, AgreementID: moneyAgreement, SubscriptionID: w.sub.ID}, "late", "a@x"); !errors.Is(err, awsmp.ErrNotWithdrawable) {
			t.Fatalf("withdrawing an answered request (ConflictException): %v", err)
		}
		r3, err := w.money.RequestCancellation(ctx, w.sub, moneyAgreement, awsmp.CancellationInput{Reason: "PRODUCT_DISCONTINUED"}, awsmp.Action{})
		if err != nil {
			t.Fatal(err)
		}
		w.fake.Elapse(7*24*time.Hour - time.Minute)
		if w.fake.PendingCancellation(moneyAgreement) != r3.ExternalID {
			t.Fatal("approved before the 7 days passed")
		}
		w.fake.Elapse(time.Minute)
		w.deliver()
		if got := w.request(r3.ID); got.Status != store.RequestApproved {
			t.Fatalf("after 7 days: %+v", got)
		}
		var sub store.Subscription
		st.TestingReadDB(t).First(&sub, w.sub.ID)
		if sub.State != "ended" {
			t.Fatalf("an approved cancellation ends the subscription (Purchase Agreement Ended): %s", sub.State)
		}
		// The agreement has ended: AWS refuses a payment request.
		_, err = w.money.RequestPayment(ctx, w.sub, moneyAgreement, awsmp.PaymentInput{Amount: "10", Name: "Overage"}, awsmp.Action{})
		if refusedCode(err) != "aws_refused" {
			t.Fatalf("payment on an ended agreement: %v", err)
		}
		rows, _ := st.ListAgreementRequests(ctx, store.AgreementRequestFilter{SubscriptionID: w.sub.ID, Kind: store.AgreementPayment})
		if len(rows) != 1 || rows[0].Status != store.RequestFailed || rows[0].ErrorCode != "ValidationException:INACTIVE_AGREEMENT" {
			t.Fatalf("payment row: %+v", rows)
		}
	})
}

// TestAgreementPaymentRequests: "The chargeAmount must not exceed the
// remaining available balance under the VariablePaymentTerm
// maxTotalChargeAmount"; the name is 5 to 64 characters. The buyer
// approves one (a charge follows), one is withdrawn, and under
// AUTO_APPROVE_ON_EXPIRATION one nobody answers is approved when it
// expires.
func TestAgreementPaymentRequests(t *testing.T) {
	eachWire(t, func(t *testing.T, st *store.Store, json bool) {
		ctx := context.Background()
		w := newMoneyWorld(t, st, json)
		if _, err := w.money.RequestPayment(ctx, w.sub, moneyAgreement, awsmp.PaymentInput{Amount: "10", Name: "Fee"}, awsmp.Action{}); refusedCode(err) != "name_invalid" {
			t.Fatalf("short name: %v", err)
		}
		if _, err := w.money.RequestPayment(ctx, w.sub, moneyAgreement, awsmp.PaymentInput{Amount: "1000.01", Name: "Overage"}, awsmp.Action{}); refusedCode(err) != "amount_exceeds_remaining" {
			t.Fatalf("over the maximum: %v", err)
		}
		p1, err := w.money.RequestPayment(ctx, w.sub, moneyAgreement, awsmp.PaymentInput{Amount: "300", Name: "March overage", Note: "extra seats"}, awsmp.Action{Actor: "a@x"})
		if err != nil || p1.Status != store.RequestPending || p1.TermID != "term-variable" {
			t.Fatalf("payment: %+v %v", p1, err)
		}
		if _, err := w.money.RequestPayment(ctx, w.sub, moneyAgreement, awsmp.PaymentInput{Amount: "5", Name: "Another"}, awsmp.Action{}); !errors.Is(err, awsmp.ErrRequestOpen) {
			t.Fatalf("a second while one waits: %v", err)
		}
		if err := w.fake.AnswerPayment(moneyAgreement, p1.ExternalID, true, ""); err != nil {
			t.Fatal(err)
		}
		w.deliver()
		got := w.request(p1.ID)
		if got.Status != store.RequestApproved || got.ChargeID == "" {
			t.Fatalf("approved: %+v", got)
		}
		b, _ := w.money.Billing(ctx, moneyAgreement)
		if len(b.Charges) != 2 || b.Charges[1].Amount != "300.00" {
			t.Fatalf("charges: %+v", b.Charges)
		}
		if _, err := w.money.RequestPayment(ctx, w.sub, moneyAgreement, awsmp.PaymentInput{Amount: "700.01", Name: "Too much"}, awsmp.Action{}); refusedCode(err) != "amount_exceeds_remaining" {
			t.Fatalf("over what is left (700.00): %v", err)
		}
		p2, err := w.money.RequestPayment(ctx, w.sub, moneyAgreement, awsmp.PaymentInput{Amount: "700", Name: "April overage"}, awsmp.Action{})
		if err != nil {
			t.Fatal(err)
		}
		if err := w.money.Withdraw(ctx, p2, "", "a@x"); err != nil {
			t.Fatal(err)
		}
		if got := w.request(p2.ID); got.Status != store.RequestWithdrawn {
			t.Fatalf("withdrawn: %+v", got)
		}
		w.fake.SetVariablePayment(moneyAgreement, awsfake.VariablePayment{TermID: "term-variable", MaxTotal: "1000.00", Currency: "USD", AutoAfter: 10 * 24 * time.Hour, Expiration: "P10D"})
		p3, err := w.money.RequestPayment(ctx, w.sub, moneyAgreement, awsmp.PaymentInput{Amount: "50", Name: "May overage"}, awsmp.Action{})
		if err != nil {
			t.Fatal(err)
		}
		w.fake.Elapse(10 * 24 * time.Hour)
		w.deliver()
		if got := w.request(p3.ID); got.Status != store.RequestApproved {
			t.Fatalf("expired under AUTO_APPROVE_ON_EXPIRATION: %+v", got)
		}
	})
}

// TestAgreementMoneyAWSErrors: ThrottlingException leaves the request to
// be sent again (the tracker does, with the same token); AccessDenied is
// AWS's refusal, stored with its code; ResourceNotFound for an agreement
// AWS does not know; ValidationException carries its reason and fields.
func TestAgreementMoneyAWSErrors(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := newMoneyWorld(t, st, false)
		w.fake.FailNext("ThrottlingException", 1) // the invoice read
		if _, err := w.money.Refund(ctx, w.sub, moneyAgreement, awsmp.RefundInput{InvoiceID: "inv-1", Amount: "1", Reason: "OTHER"}, awsmp.Action{}); err == nil {
			t.Fatal("throttled invoice read must fail")
		}
		w.fake.FailNext("ThrottlingException", 1)
		r, err := w.money.RequestCancellation(ctx, w.sub, moneyAgreement, awsmp.CancellationInput{Reason: "OTHER"}, awsmp.Action{})
		if err == nil || r == nil {
			t.Fatalf("throttled send: %v", err)
		}
		if got := w.request(r.ID); got.Status != store.RequestSending || got.Attempts != 1 || got.NextCheckAt == nil {
			t.Fatalf("after throttling: %+v", got)
		}
		st.TestingDB(t).Model(&store.AgreementRequest{}).Where("id = ?", r.ID).Update("next_check_at", time.Now().Add(-time.Minute))
		w.money.Track(ctx)
		if got := w.request(r.ID); got.Status != store.RequestPending {
			t.Fatalf("tracked after throttling: %+v", got)
		}
		w.fake.FailNext("AccessDeniedException", 1)
		_, err = w.money.RequestPayment(ctx, w.sub, moneyAgreement, awsmp.PaymentInput{Amount: "1", Name: "Denied"}, awsmp.Action{})
		if err == nil {
			t.Fatal("access denied")
		}
		if _, err := w.money.Billing(ctx, "agmt-nobody"); err == nil {
			t.Fatal("unknown agreement")
		} else {
			var nf *matypes.ResourceNotFoundException
			if !errors.As(err, &nf) || aws.ToString(nf.ResourceId) != "agmt-nobody" {
				t.Fatalf("not ResourceNotFound: %v", err)
			}
		}
		client := w.money.AWS.Agreement.(*ma.Client)
		_, err = client.SendAgreementPaymentRequest(ctx, &ma.SendAgreementPaymentRequestInput{AgreementId: aws.String(moneyAgreement),
			ChargeAmount: aws.String("-1"), Name: aws.String("Negative"), TermId: aws.String("term-variable")})
		var ve *matypes.ValidationException
		if !errors.As(err, &ve) || ve.Reason != matypes.ValidationExceptionReasonInvalidChargeAmount || len(ve.Fields) != 1 || aws.ToString(ve.Fields[0].Name) != "chargeAmount" {
			t.Fatalf("validation: %v", err)
		}
	})
}
