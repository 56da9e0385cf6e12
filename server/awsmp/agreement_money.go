package awsmp

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ma "github.com/aws/aws-sdk-go-v2/service/marketplaceagreement"
	matypes "github.com/aws/aws-sdk-go-v2/service/marketplaceagreement/types"
	"github.com/aws/smithy-go"

	"github.com/marketgate/marketgate/server/subscriptions"
	"github.com/marketgate/marketgate/server/webhooks"
	"github.com/marketgate/marketgate/store"
)

// Money actions on an AWS agreement (issue 20): refunds (billing
// adjustment requests against an invoice), seller-initiated cancellation
// requests (the buyer has 7 days to answer; no answer approves) and
// payment requests against the agreement's variable-payment term. Each
// request is stored with the ClientToken AWS deduplicates on before AWS
// is called; a retry (after a timeout, a crash, a throttled call) sends
// the same token, so AWS never makes a second refund. Outcomes arrive by
// EventBridge (the inbox, applyNote) and by polling (Track).

// AgreementMoneyAPI is the part of the Agreement Service client the money
// actions use (the real *marketplaceagreement.Client has it).
type AgreementMoneyAPI interface {
	GetAgreementTerms(ctx context.Context, in *ma.GetAgreementTermsInput, opts ...func(*ma.Options)) (*ma.GetAgreementTermsOutput, error)
	ListAgreementInvoiceLineItems(ctx context.Context, in *ma.ListAgreementInvoiceLineItemsInput, opts ...func(*ma.Options)) (*ma.ListAgreementInvoiceLineItemsOutput, error)
	ListAgreementCharges(ctx context.Context, in *ma.ListAgreementChargesInput, opts ...func(*ma.Options)) (*ma.ListAgreementChargesOutput, error)
	BatchCreateBillingAdjustmentRequest(ctx context.Context, in *ma.BatchCreateBillingAdjustmentRequestInput, opts ...func(*ma.Options)) (*ma.BatchCreateBillingAdjustmentRequestOutput, error)
	GetBillingAdjustmentRequest(ctx context.Context, in *ma.GetBillingAdjustmentRequestInput, opts ...func(*ma.Options)) (*ma.GetBillingAdjustmentRequestOutput, error)
	SendAgreementCancellationRequest(ctx context.Context, in *ma.SendAgreementCancellationRequestInput, opts ...func(*ma.Options)) (*ma.SendAgreementCancellationRequestOutput, error)
	GetAgreementCancellationRequest(ctx context.Context, in *ma.GetAgreementCancellationRequestInput, opts ...func(*ma.Options)) (*ma.GetAgreementCancellationRequestOutput, error)
	CancelAgreementCancellationRequest(ctx context.Context, in *ma.CancelAgreementCancellationRequestInput, opts ...func(*ma.Options)) (*ma.CancelAgreementCancellationRequestOutput, error)
	SendAgreementPaymentRequest(ctx context.Context, in *ma.SendAgreementPaymentRequestInput, opts ...func(*ma.Options)) (*ma.SendAgreementPaymentRequestOutput, error)
	GetAgreementPaymentRequest(ctx context.Context, in *ma.GetAgreementPaymentRequestInput, opts ...func(*ma.Options)) (*ma.GetAgreementPaymentRequestOutput, error)
	CancelAgreementPaymentRequest(ctx context.Context, in *ma.CancelAgreementPaymentRequestInput, opts ...func(*ma.Options)) (*ma.CancelAgreementPaymentRequestOutput, error)
}

// Money performs and tracks the money actions.
type Money struct {
	Store *store.Store
	AWS   *Client
	Log   *slog.Logger
	// PollEvery is how long a pending request waits between polls (default 5 minutes).
	PollEvery time.Duration
}

// The portal's webhook event for a request's outcome, and the timeline kind
// (an alert) of the outcomes a seller should see.
const (
	WebhookAgreementRequest = webhooks.AgreementRequestUpdated
	KindAgreementRequest    = "aws.agreement_request"
)

// AWS's reason codes (marketplaceagreement types).
var (
	RefundReasons       = enumStrings(matypes.BillingAdjustmentReasonCode("").Values())
	CancellationReasons = enumStrings(matypes.AgreementCancellationRequestReasonCode("").Values())
)

func enumStrings[T ~string](vs []T) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return out
}

// RefusedError is an action refused before AWS is called, or refused by
// AWS: a stable code, the field, and a message for people.
type RefusedError struct {
	Code, Field, Message string
}

func (e *RefusedError) Error() string { return e.Code + ": " + e.Message }

func refuse(code, field, format string, args ...any) error {
	return &RefusedError{Code: code, Field: field, Message: fmt.Sprintf(format, args...)}
}

// Errors of the money actions besides refusals.
var (
	ErrNoAgreement     = errors.New("the subscription has no AWS agreement")
	ErrRequestOpen     = errors.New("a request of this kind is already waiting for the buyer")
	ErrNotWithdrawable = errors.New("the request is not waiting for the buyer")
)

func (m *Money) api() (AgreementMoneyAPI, error) {
	if m.AWS == nil || m.AWS.Agreement == nil {
		return nil, ErrNoAgreementAPI
	}
	api, ok := m.AWS.Agreement.(AgreementMoneyAPI)
	if !ok {
		return nil, ErrNoAgreementAPI
	}
	return api, nil
}

// InvoiceLine is one invoice of an agreement (ListAgreementInvoiceLineItems
// grouped by INVOICE_ID).
type InvoiceLine struct {
	InvoiceID     string     `json:"invoice_id"`
	Type          string     `json:"type"` // INVOICE, CREDIT_MEMO
	Amount        string     `json:"amount"`
	Currency      string     `json:"currency"`
	MaxRefundable string     `json:"max_refundable"` // the invoice's maxAdjustmentAmount
	IssuedAt      *time.Time `json:"issued_at"`
	Period        string     `json:"period"` // YYYY-MM
}

// Charge is one charge of an agreement (ListAgreementCharges).
type Charge struct {
	ID       string     `json:"id"`
	Amount   string     `json:"amount"`
	Currency string     `json:"currency"`
	At       *time.Time `json:"at"`
}

// VariableTerm is an agreement's VariablePaymentTerm.
type VariableTerm struct {
	TermID   string `json:"term_id"`
	MaxTotal string `json:"max_total"`
	Currency string `json:"currency"`
	Approval string `json:"approval"` // AUTO_APPROVE_ON_EXPIRATION, WAIT_FOR_APPROVAL
	Expires  string `json:"expires"`  // ISO 8601 duration
}

// Billing is an agreement's invoices, charges and variable-payment term.
type Billing struct {
	AgreementID string        `json:"agreement_id"`
	Invoices    []InvoiceLine `json:"invoices"`
	Charges     []Charge      `json:"charges"`
	Variable    *VariableTerm `json:"variable_term"`
}

// Billing reads an agreement's invoices and charges (every page) and its
// variable-payment term.
func (m *Money) Billing(ctx context.Context, agreementID string) (Billing, error) {
	out := Billing{AgreementID: agreementID, Invoices: []InvoiceLine{}, Charges: []Charge{}}
	api, err := m.api()
	if err != nil {
		return out, err
	}
	if out.Invoices, err = invoices(ctx, api, agreementID, ""); err != nil {
		return out, err
	}
	if out.Charges, err = charges(ctx, api, agreementID); err != nil {
		return out, err
	}
	out.Variable, err = variableTerm(ctx, api, agreementID)
	return out, err
}

func invoices(ctx context.Context, api AgreementMoneyAPI, agreementID, invoiceID string) ([]InvoiceLine, error) {
	in := &ma.ListAgreementInvoiceLineItemsInput{AgreementId: aws.String(agreementID), GroupBy: matypes.LineItemGroupByInvoiceId, MaxResults: aws.Int32(50)}
	if invoiceID != "" {
		in.InvoiceId = aws.String(invoiceID)
	}
	out := []InvoiceLine{}
	for pages := 0; pages < 100; pages++ {
		page, err := api.ListAgreementInvoiceLineItems(ctx, in)
		if err != nil {
			return nil, err
		}
		for _, g := range page.AgreementInvoiceLineItemGroupSummaries {
			out = append(out, invoiceLine(g))
		}
		if aws.ToString(page.NextToken) == "" {
			break
		}
		in.NextToken = page.NextToken
	}
	return out, nil
}

func invoiceLine(g matypes.AgreementInvoiceLineItemGroupSummary) InvoiceLine {
	l := InvoiceLine{InvoiceID: aws.ToString(g.InvoiceId), Type: string(g.InvoiceType), IssuedAt: g.IssuedTime}
	if a := g.PricingCurrencyAmount; a != nil {
		l.Amount, l.Currency, l.MaxRefundable = aws.ToString(a.Amount), aws.ToString(a.CurrencyCode), aws.ToString(a.MaxAdjustmentAmount)
	}
	if p := g.InvoiceBillingPeriod; p != nil && p.Year != nil && p.Month != nil {
		l.Period = fmt.Sprintf("%04d-%02d", *p.Year, *p.Month)
	}
	return l
}

func charges(ctx context.Context, api AgreementMoneyAPI, agreementID string) ([]Charge, error) {
	in := &ma.ListAgreementChargesInput{AgreementId: aws.String(agreementID), MaxResults: aws.Int32(50)}
	out := []Charge{}
	for pages := 0; pages < 100; pages++ {
		page, err := api.ListAgreementCharges(ctx, in)
		if err != nil {
			return nil, err
		}
		for _, c := range page.Items {
			out = append(out, Charge{ID: aws.ToString(c.Id), Amount: aws.ToString(c.Amount), Currency: aws.ToString(c.CurrencyCode), At: c.Time})
		}
		if aws.ToString(page.NextToken) == "" {
			break
		}
		in.NextToken = page.NextToken
	}
	return out, nil
}

func variableTerm(ctx context.Context, api AgreementMoneyAPI, agreementID string) (*VariableTerm, error) {
	in := &ma.GetAgreementTermsInput{AgreementId: aws.String(agreementID), MaxResults: aws.Int32(50)}
	for pages := 0; pages < 100; pages++ {
		page, err := api.GetAgreementTerms(ctx, in)
		if err != nil {
			return nil, err
		}
		for _, t := range page.AcceptedTerms {
			if v, ok := t.(*matypes.AcceptedTermMemberVariablePaymentTerm); ok {
				vt := &VariableTerm{TermID: aws.ToString(v.Value.Id), MaxTotal: aws.ToString(v.Value.MaxTotalChargeAmount), Currency: aws.ToString(v.Value.CurrencyCode)}
				if c := v.Value.Configuration; c != nil {
					vt.Approval, vt.Expires = string(c.PaymentRequestApprovalStrategy), aws.ToString(c.ExpirationDuration)
				}
				return vt, nil
			}
		}
		if aws.ToString(page.NextToken) == "" {
			break
		}
		in.NextToken = page.NextToken
	}
	return nil, nil
}

// amountPattern is AWS's: "Pattern: [0-9]*(\.[0-9]{0,8})?".
var amountPattern = regexp.MustCompile(`^[0-9]{1,12}(\.[0-9]{0,8})?$`)

// decimal reads a positive amount the way AWS writes it.
func decimal(s string) (*big.Rat, bool) {
	if !amountPattern.MatchString(s) {
		return nil, false
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok || r.Sign() <= 0 {
		return nil, false
	}
	return r, true
}

func newToken() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return "mg-" + hex.EncodeToString(b)
}

// Action is who asks, and the key that makes a retry answer the first
// submission.
type Action struct {
	Actor          string
	IdempotencyKey string
}

// RefundInput is a refund an admin asks for.
type RefundInput struct {
	InvoiceID string
	Amount    string
	Reason    string
	Note      string
}

// Refund requests a billing adjustment against an invoice of the
// subscription's agreement. The amount is checked with AWS's rules first
// (a positive decimal of at most 8 decimals, at most the invoice's
// maximum refundable amount, in the invoice's currency), the reason is
// one of AWS's codes and the note at most 500 characters.
func (m *Money) Refund(ctx context.Context, sub *store.Subscription, agreementID string, in RefundInput, act Action) (*store.AgreementRequest, error) {
	if prior, err := m.prior(ctx, sub.ID, store.AgreementRefund, act.IdempotencyKey); prior != nil || err != nil {
		return m.resume(ctx, prior, err)
	}
	api, err := m.api()
	if err != nil {
		return nil, err
	}
	amount, ok := decimal(in.Amount)
	switch {
	case !ok:
		return nil, refuse("amount_invalid", "amount", "the amount must be a positive decimal with at most 8 decimals (AWS's rule)")
	case !oneOf(in.Reason, RefundReasons):
		return nil, refuse("reason_invalid", "reason_code", "choose one of AWS's reason codes")
	case len(in.Note) > 500:
		return nil, refuse("note_too_long", "note", "the note is at most 500 characters (AWS's rule)")
	}
	lines, err := invoices(ctx, api, agreementID, in.InvoiceID)
	if err != nil {
		return nil, err
	}
	inv, err := refundable(lines, in.InvoiceID, amount)
	if err != nil {
		return nil, err
	}
	r := &store.AgreementRequest{SubscriptionID: sub.ID, CustomerID: sub.CustomerID, AgreementID: agreementID, Kind: store.AgreementRefund,
		Amount: in.Amount, Currency: inv.Currency, InvoiceID: inv.InvoiceID, ReasonCode: in.Reason, Note: in.Note}
	return m.create(ctx, r, act)
}

// refundable finds the invoice and checks the amount against its maximum
// refundable amount.
func refundable(lines []InvoiceLine, invoiceID string, amount *big.Rat) (*InvoiceLine, error) {
	for i := range lines {
		l := &lines[i]
		if l.InvoiceID != invoiceID || l.Type != string(matypes.InvoiceTypeInvoice) {
			continue
		}
		max, ok := new(big.Rat).SetString(l.MaxRefundable)
		if ok && amount.Cmp(max) > 0 {
			return nil, refuse("amount_exceeds_refundable", "amount", "at most %s %s of this invoice can still be refunded (AWS's maximum adjustment amount)", l.MaxRefundable, l.Currency)
		}
		return l, nil
	}
	return nil, refuse("invoice_unknown", "invoice_id", "the agreement has no invoice %s", invoiceID)
}

// CancellationInput is a cancellation request an admin sends.
type CancellationInput struct {
	Reason string
	Note   string
}

// RequestCancellation asks the buyer to approve the agreement's
// cancellation: one of AWS's reason codes, a description of at most 2000
// characters; one request waits at a time.
func (m *Money) RequestCancellation(ctx context.Context, sub *store.Subscription, agreementID string, in CancellationInput, act Action) (*store.AgreementRequest, error) {
	if prior, err := m.prior(ctx, sub.ID, store.AgreementCancellation, act.IdempotencyKey); prior != nil || err != nil {
		return m.resume(ctx, prior, err)
	}
	switch {
	case !oneOf(in.Reason, CancellationReasons):
		return nil, refuse("reason_invalid", "reason_code", "choose one of AWS's reason codes")
	case len(in.Note) > 2000:
		return nil, refuse("note_too_long", "note", "the description is at most 2000 characters (AWS's rule)")
	}
	if _, err := m.api(); err != nil {
		return nil, err
	}
	r := &store.AgreementRequest{SubscriptionID: sub.ID, CustomerID: sub.CustomerID, AgreementID: agreementID, Kind: store.AgreementCancellation,
		ReasonCode: in.Reason, Note: in.Note}
	return m.create(ctx, r, act)
}

// PaymentInput is a payment request an admin sends.
type PaymentInput struct {
	Amount string
	Name   string
	Note   string
}

// RequestPayment sends a charge against the agreement's variable-payment
// term: a positive amount within what the term still allows (its maximum
// less what was approved or waits for approval), a name of 5 to 64
// characters, a description of at most 2000.
func (m *Money) RequestPayment(ctx context.Context, sub *store.Subscription, agreementID string, in PaymentInput, act Action) (*store.AgreementRequest, error) {
	if prior, err := m.prior(ctx, sub.ID, store.AgreementPayment, act.IdempotencyKey); prior != nil || err != nil {
		return m.resume(ctx, prior, err)
	}
	api, err := m.api()
	if err != nil {
		return nil, err
	}
	amount, ok := decimal(in.Amount)
	name := strings.TrimSpace(in.Name)
	switch {
	case !ok:
		return nil, refuse("amount_invalid", "amount", "the amount must be a positive decimal with at most 8 decimals (AWS's rule)")
	case len(name) < 5 || len(name) > 64:
		return nil, refuse("name_invalid", "name", "the name is 5 to 64 characters (AWS's rule)")
	case len(in.Note) > 2000:
		return nil, refuse("note_too_long", "note", "the description is at most 2000 characters (AWS's rule)")
	}
	vt, err := variableTerm(ctx, api, agreementID)
	if err != nil {
		return nil, err
	}
	if vt == nil {
		return nil, refuse("no_variable_term", "", "the agreement has no variable-payment term: payment requests need one")
	}
	left, err := m.Remaining(ctx, sub.ID, vt)
	if err != nil {
		return nil, err
	}
	if amount.Cmp(left) > 0 {
		return nil, refuse("amount_exceeds_remaining", "amount", "at most %s %s can still be requested under the variable-payment term", left.FloatString(2), vt.Currency)
	}
	r := &store.AgreementRequest{SubscriptionID: sub.ID, CustomerID: sub.CustomerID, AgreementID: agreementID, Kind: store.AgreementPayment,
		Amount: in.Amount, Currency: vt.Currency, TermID: vt.TermID, Name: name, Note: in.Note}
	return m.create(ctx, r, act)
}

// Remaining is what the variable-payment term still allows: its maximum
// less the payment requests approved or waiting.
func (m *Money) Remaining(ctx context.Context, subID uint, vt *VariableTerm) (*big.Rat, error) {
	left, ok := new(big.Rat).SetString(vt.MaxTotal)
	if !ok {
		return new(big.Rat), nil
	}
	rows, err := m.Store.ListAgreementRequests(ctx, store.AgreementRequestFilter{SubscriptionID: subID, Kind: store.AgreementPayment, Limit: 500})
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		switch r.Status {
		case store.RequestSending, store.RequestPending, store.RequestApproved:
			if a, ok := new(big.Rat).SetString(r.Amount); ok && r.TermID == vt.TermID {
				left.Sub(left, a)
			}
		}
	}
	if left.Sign() < 0 {
		left.SetInt64(0)
	}
	return left, nil
}

func oneOf(v string, list []string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// prior is the request an idempotency key made before (nil: none).
func (m *Money) prior(ctx context.Context, subID uint, kind, key string) (*store.AgreementRequest, error) {
	if key == "" {
		return nil, nil
	}
	r, err := m.Store.Reads(ctx).AgreementRequestByKey(subID, kind, key)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	return r, err
}

// resume answers a request made before: one still being sent is sent
// again with its token (AWS answers the first).
func (m *Money) resume(ctx context.Context, r *store.AgreementRequest, err error) (*store.AgreementRequest, error) {
	if err != nil || r.Status != store.RequestSending {
		return r, err
	}
	return r, m.send(ctx, r)
}

// create stores the request with a fresh ClientToken, then calls AWS. A
// cancellation or payment request waits alone: a second while one is
// open is refused.
func (m *Money) create(ctx context.Context, r *store.AgreementRequest, act Action) (*store.AgreementRequest, error) {
	now := m.Store.Now()
	r.ClientToken, r.IdempotencyKey, r.RequestedBy, r.Status = newToken(), act.IdempotencyKey, act.Actor, store.RequestSending
	r.CreatedAt, r.UpdatedAt, r.NextCheckAt = now, now, &now
	err := m.Store.InTx(ctx, func(tx *store.Tx) error {
		if r.Kind != store.AgreementRefund {
			if _, err := tx.OpenAgreementRequest(r.SubscriptionID, r.Kind); err == nil {
				return ErrRequestOpen
			} else if !errors.Is(err, store.ErrNotFound) {
				return err
			}
		}
		return tx.CreateAgreementRequest(r, act.Actor)
	})
	if err != nil {
		return nil, err
	}
	return r, m.send(ctx, r)
}

// send calls AWS for a request being sent, with its token, and records
// the answer. A call that may have reached AWS (a timeout, throttling, a
// server fault) leaves the request "sending": the next attempt (a retry,
// the tracker) sends the same token again.
func (m *Money) send(ctx context.Context, r *store.AgreementRequest) error {
	api, err := m.api()
	if err != nil {
		return err
	}
	var res sent
	switch r.Kind {
	case store.AgreementRefund:
		res, err = sendRefund(ctx, api, r)
	case store.AgreementCancellation:
		res, err = sendCancellation(ctx, api, r)
	case store.AgreementPayment:
		res, err = sendPayment(ctx, api, r)
	}
	return m.recordSend(ctx, r, res, err)
}

// sent is what AWS answered a request.
type sent struct {
	id, awsStatus, message, errCode string
	created                         *time.Time
}

func sendRefund(ctx context.Context, api AgreementMoneyAPI, r *store.AgreementRequest) (sent, error) {
	entry := matypes.BatchCreateBillingAdjustmentRequestEntry{AgreementId: aws.String(r.AgreementID), ClientToken: aws.String(r.ClientToken),
		AdjustmentAmount: aws.String(r.Amount), AdjustmentReasonCode: matypes.BillingAdjustmentReasonCode(r.ReasonCode),
		CurrencyCode: aws.String(r.Currency), OriginalInvoiceId: aws.String(r.InvoiceID)}
	if r.Note != "" {
		entry.Description = aws.String(r.Note)
	}
	out, err := api.BatchCreateBillingAdjustmentRequest(ctx, &ma.BatchCreateBillingAdjustmentRequestInput{
		BillingAdjustmentRequestEntries: []matypes.BatchCreateBillingAdjustmentRequestEntry{entry}})
	if err != nil {
		return sent{}, err
	}
	for _, it := range out.Items {
		if aws.ToString(it.ClientToken) == r.ClientToken {
			return sent{id: aws.ToString(it.BillingAdjustmentRequestId), awsStatus: string(matypes.BillingAdjustmentStatusPending)}, nil
		}
	}
	for _, e := range out.Errors {
		if aws.ToString(e.ClientToken) == r.ClientToken {
			return sent{errCode: string(e.Code), message: aws.ToString(e.Message)}, nil
		}
	}
	return sent{}, fmt.Errorf("AWS answered neither an item nor an error for the refund")
}

func sendCancellation(ctx context.Context, api AgreementMoneyAPI, r *store.AgreementRequest) (sent, error) {
	in := &ma.SendAgreementCancellationRequestInput{AgreementId: aws.String(r.AgreementID), ClientToken: aws.String(r.ClientToken),
		ReasonCode: matypes.AgreementCancellationRequestReasonCode(r.ReasonCode)}
	if r.Note != "" {
		in.Description = aws.String(r.Note)
	}
	out, err := api.SendAgreementCancellationRequest(ctx, in)
	if err != nil {
		return sent{}, err
	}
	return sent{id: aws.ToString(out.AgreementCancellationRequestId), awsStatus: string(out.Status), created: out.CreatedAt}, nil
}

func sendPayment(ctx context.Context, api AgreementMoneyAPI, r *store.AgreementRequest) (sent, error) {
	in := &ma.SendAgreementPaymentRequestInput{AgreementId: aws.String(r.AgreementID), ClientToken: aws.String(r.ClientToken),
		ChargeAmount: aws.String(r.Amount), Name: aws.String(r.Name), TermId: aws.String(r.TermID)}
	if r.Note != "" {
		in.Description = aws.String(r.Note)
	}
	out, err := api.SendAgreementPaymentRequest(ctx, in)
	if err != nil {
		return sent{}, err
	}
	return sent{id: aws.ToString(out.PaymentRequestId), awsStatus: string(out.Status)}, nil
}

// recordSend stores what a send came to: AWS's id and status, AWS's
// refusal (failed, with its code), or a call that may be retried.
func (m *Money) recordSend(ctx context.Context, r *store.AgreementRequest, res sent, callErr error) error {
	now := m.Store.Now()
	fields := map[string]any{"attempts": r.Attempts + 1}
	var out error
	switch {
	case callErr != nil && retryable(callErr):
		next := now.Add(retryDelay(r.Attempts))
		fields["next_check_at"], fields["error"] = next, clip(callErr.Error(), 1000)
		out = callErr
	case callErr != nil:
		code, msg := awsRefusal(callErr)
		fields["status"], fields["error_code"], fields["error"], fields["next_check_at"] = store.RequestFailed, code, msg, nil
		out = &RefusedError{Code: "aws_refused", Message: "AWS refused the request: " + msg}
	case res.errCode != "":
		fields["status"], fields["error_code"], fields["error"], fields["next_check_at"] = store.RequestFailed, res.errCode, res.message, nil
		out = &RefusedError{Code: "aws_refused", Message: "AWS refused the request: " + res.message}
	default:
		fields["external_id"], fields["error"], fields["aws_status"] = res.id, "", res.awsStatus
		fields["status"] = ourStatus(r.Kind, res.awsStatus)
		next := now.Add(m.pollEvery())
		fields["next_check_at"] = &next
		if r.Kind == store.AgreementCancellation {
			respond := now.Add(7 * 24 * time.Hour) // AWS: "you have 7 days to approve or deny"
			if res.created != nil {
				respond = res.created.Add(7 * 24 * time.Hour)
			}
			fields["respond_by"] = &respond
		}
	}
	err := m.Store.InTx(ctx, func(tx *store.Tx) error {
		changed, err := tx.UpdateAgreementRequest(r, fields, r.RequestedBy, "portal", cmpString(fields["error"]))
		if err != nil || !changed {
			return err
		}
		return m.outcome(tx, r, fields)
	})
	if err != nil {
		return err
	}
	applyFields(r, fields)
	return out
}

func cmpString(v any) string {
	s, _ := v.(string)
	return s
}

func (m *Money) pollEvery() time.Duration {
	if m.PollEvery > 0 {
		return m.PollEvery
	}
	return 5 * time.Minute
}

// retryable: a call that may have reached AWS, or that AWS asks to repeat.
func retryable(err error) bool { return transientTermsError(err) }

// awsRefusal is AWS's error code (with a ValidationException's reason)
// and message.
func awsRefusal(err error) (code, msg string) {
	var ve *matypes.ValidationException
	if errors.As(err, &ve) {
		return "ValidationException:" + string(ve.Reason), aws.ToString(ve.Message)
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorCode(), api.ErrorMessage()
	}
	return "error", err.Error()
}

// ourStatus maps AWS's status of a request to Marketgate's.
func ourStatus(kind, aws string) string {
	switch aws {
	case "PENDING", "PENDING_APPROVAL", "VALIDATING":
		return store.RequestPending
	case "COMPLETED":
		return store.RequestCompleted
	case "APPROVED":
		return store.RequestApproved
	case "REJECTED":
		return store.RequestRejected
	case "CANCELLED":
		return store.RequestWithdrawn
	case "VALIDATION_FAILED":
		return store.RequestFailed
	}
	return store.RequestPending
}

// applyFields copies stored fields onto the request in memory.
func applyFields(r *store.AgreementRequest, f map[string]any) {
	for k, v := range f {
		s, _ := v.(string)
		switch k {
		case "status":
			r.Status = s
		case "aws_status":
			r.AWSStatus = s
		case "external_id":
			r.ExternalID = s
		case "error":
			r.Error = s
		case "error_code":
			r.ErrorCode = s
		case "status_message":
			r.StatusMessage = s
		case "charge_id":
			r.ChargeID = s
		case "withdrawn_by":
			r.WithdrawnBy = s
		case "respond_by":
			r.RespondBy, _ = v.(*time.Time)
		case "attempts":
			r.Attempts, _ = v.(int)
		}
	}
}

// outcome, for a request that reached an end (or AWS now waits for the
// buyer), writes the subscription's timeline note (an alert for the ends)
// and the outbound webhook event.
func (m *Money) outcome(tx *store.Tx, r *store.AgreementRequest, fields map[string]any) error {
	status, _ := fields["status"].(string)
	if status == "" || status == store.RequestSending {
		return nil
	}
	now := tx.Now()
	view := *r
	applyFields(&view, fields)
	summary := OutcomeSummary(&view)
	if status != store.RequestPending {
		if err := noteTx(tx, now, r.SubscriptionID, KindAgreementRequest, now, summary, subscriptions.Meta{Source: "portal", Actor: "aws"}); err != nil {
			return err
		}
	}
	return emitSubscription(tx, now, r.SubscriptionID, now, []string{WebhookAgreementRequest}, map[string]any{"agreement_request": map[string]any{
		"id": r.ID, "kind": r.Kind, "status": status, "aws_status": view.AWSStatus, "aws_id": view.ExternalID, "agreement_id": r.AgreementID,
		"amount": r.Amount, "currency": r.Currency, "summary": summary}})
}

// OutcomeSummary says in a line where a request stands.
func OutcomeSummary(r *store.AgreementRequest) string {
	what := map[string]string{store.AgreementRefund: "refund of " + r.Amount + " " + r.Currency + " on invoice " + r.InvoiceID,
		store.AgreementCancellation: "cancellation request", store.AgreementPayment: "payment request of " + r.Amount + " " + r.Currency}[r.Kind]
	s := fmt.Sprintf("AWS agreement %s: %s %s", r.AgreementID, what, r.Status)
	switch {
	case r.Kind == store.AgreementCancellation && r.Status == store.RequestApproved:
		s += ": AWS ends the agreement; access and metering end when Purchase Agreement Ended arrives"
	case r.Kind == store.AgreementCancellation && r.Status == store.RequestPending:
		s += ": the buyer has 7 days to answer (no answer approves it)"
	}
	if msg := strings.TrimSpace(r.StatusMessage + " " + r.Error); msg != "" {
		s += " (" + msg + ")"
	}
	return s
}

// Withdraw withdraws a cancellation or payment request while the buyer
// has not answered it.
func (m *Money) Withdraw(ctx context.Context, r *store.AgreementRequest, reason, actor string) error {
	if r.Status != store.RequestPending || r.ExternalID == "" || r.Kind == store.AgreementRefund {
		return ErrNotWithdrawable
	}
	if r.Kind == store.AgreementCancellation && (len(reason) < 1 || len(reason) > 2000) {
		return refuse("reason_invalid", "reason", "say why the request is withdrawn (1 to 2000 characters, AWS's rule)")
	}
	api, err := m.api()
	if err != nil {
		return err
	}
	var st string
	if r.Kind == store.AgreementCancellation {
		var out *ma.CancelAgreementCancellationRequestOutput
		out, err = api.CancelAgreementCancellationRequest(ctx, &ma.CancelAgreementCancellationRequestInput{AgreementId: aws.String(r.AgreementID),
			AgreementCancellationRequestId: aws.String(r.ExternalID), CancellationReason: aws.String(reason)})
		if out != nil {
			st = string(out.Status)
		}
	} else {
		var out *ma.CancelAgreementPaymentRequestOutput
		out, err = api.CancelAgreementPaymentRequest(ctx, &ma.CancelAgreementPaymentRequestInput{AgreementId: aws.String(r.AgreementID),
			PaymentRequestId: aws.String(r.ExternalID)})
		if out != nil {
			st = string(out.Status)
		}
	}
	if err != nil {
		var ce *matypes.ConflictException
		if errors.As(err, &ce) {
			_ = m.Check(ctx, r) // the buyer answered meanwhile: show it
			return ErrNotWithdrawable
		}
		return err
	}
	return m.apply(ctx, r, st, reason, "", actor, "portal", map[string]any{"withdrawn_by": actor})
}

// apply records AWS's status of a request (from a poll, an event or an
// answer), with its message and charge.
func (m *Money) apply(ctx context.Context, r *store.AgreementRequest, awsStatus, message, chargeID, actor, source string, extra map[string]any) error {
	fields := map[string]any{"aws_status": awsStatus, "status": ourStatus(r.Kind, awsStatus)}
	for k, v := range extra {
		fields[k] = v
	}
	if message != "" {
		fields["status_message"] = clip(message, 2000)
	}
	if chargeID != "" {
		fields["charge_id"] = chargeID
	}
	if fields["status"] != store.RequestPending {
		fields["next_check_at"] = nil
	}
	return m.Store.InTx(ctx, func(tx *store.Tx) error {
		return applyRequestTx(tx, m, r, fields, actor, source, message)
	})
}

func applyRequestTx(tx *store.Tx, m *Money, r *store.AgreementRequest, fields map[string]any, actor, source, message string) error {
	changed, err := tx.UpdateAgreementRequest(r, fields, actor, source, message)
	if err != nil {
		return err
	}
	if changed {
		err = m.outcome(tx, r, fields)
	}
	applyFields(r, fields)
	return err
}

// Resend sends a request left "sending" again, with its token.
func (m *Money) Resend(ctx context.Context, r *store.AgreementRequest) (*store.AgreementRequest, error) {
	if r.Status != store.RequestSending {
		return r, nil
	}
	return r, m.send(ctx, r)
}

// Check polls AWS for a request's status.
func (m *Money) Check(ctx context.Context, r *store.AgreementRequest) error {
	api, err := m.api()
	if err != nil {
		return err
	}
	var st, msg, charge string
	switch r.Kind {
	case store.AgreementRefund:
		out, err := api.GetBillingAdjustmentRequest(ctx, &ma.GetBillingAdjustmentRequestInput{AgreementId: aws.String(r.AgreementID), BillingAdjustmentRequestId: aws.String(r.ExternalID)})
		if err != nil {
			return err
		}
		st, msg = string(out.Status), aws.ToString(out.StatusMessage)
	case store.AgreementCancellation:
		out, err := api.GetAgreementCancellationRequest(ctx, &ma.GetAgreementCancellationRequestInput{AgreementId: aws.String(r.AgreementID), AgreementCancellationRequestId: aws.String(r.ExternalID)})
		if err != nil {
			return err
		}
		st, msg = string(out.Status), aws.ToString(out.StatusMessage)
	default:
		out, err := api.GetAgreementPaymentRequest(ctx, &ma.GetAgreementPaymentRequestInput{AgreementId: aws.String(r.AgreementID), PaymentRequestId: aws.String(r.ExternalID)})
		if err != nil {
			return err
		}
		st, msg, charge = string(out.Status), aws.ToString(out.StatusMessage), aws.ToString(out.ChargeId)
	}
	extra := map[string]any{}
	if ourStatus(r.Kind, st) == store.RequestPending {
		next := m.Store.Now().Add(m.pollEvery())
		extra["next_check_at"] = &next
	}
	return m.apply(ctx, r, st, msg, charge, "aws", "poll", extra)
}

// Track sends the requests left "sending" again (same token) and polls
// the pending ones whose check is due. It returns how many it looked at.
func (m *Money) Track(ctx context.Context) int {
	rows, err := m.Store.AgreementRequestsDue(ctx, m.Store.Now(), 50)
	if err != nil {
		m.Log.Error("agreement requests", "err", err)
		return 0
	}
	for i := range rows {
		r := &rows[i]
		if r.Status == store.RequestSending {
			err = m.send(ctx, r)
		} else {
			err = m.Check(ctx, r)
		}
		if err != nil {
			m.Log.Warn("agreement request not tracked", "request", r.ID, "kind", r.Kind, "err", err)
		}
	}
	return len(rows)
}

// MoneyEvent is what an EventBridge event said about one of the requests.
type MoneyEvent struct {
	Kind, ExternalID, Status, Message, ChargeID string
}

// applyMoneyEventTx records an event's status on its request, when
// Marketgate made the request (events for requests made elsewhere, such as
// in the AWS Marketplace Management Portal, stay timeline notes).
func applyMoneyEventTx(tx *store.Tx, e *MoneyEvent) error {
	if e == nil || e.ExternalID == "" || e.Status == "" {
		return nil
	}
	r, err := tx.AgreementRequestByExternalID(e.Kind, e.ExternalID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	fields := map[string]any{"aws_status": e.Status, "status": ourStatus(r.Kind, e.Status)}
	if e.Message != "" {
		fields["status_message"] = clip(e.Message, 2000)
	}
	if e.ChargeID != "" {
		fields["charge_id"] = e.ChargeID
	}
	if fields["status"] != store.RequestPending {
		fields["next_check_at"] = nil
	}
	return applyRequestTx(tx, &Money{}, r, fields, "aws", "event", e.Message)
}

// The payment-request events. AWS's pages name the cancellation-request
// events "Agreement Cancellation Request …"; the payment-request ones are
// read under the same pattern.
const (
	PaymentRequestPending   = "Agreement Payment Request Pending Approval"
	PaymentRequestApproved  = "Agreement Payment Request Approved"
	PaymentRequestRejected  = "Agreement Payment Request Rejected"
	PaymentRequestCancelled = "Agreement Payment Request Cancelled"
	KindPaymentRequest      = "aws.payment_request"
)

func init() {
	for _, d := range []string{PaymentRequestPending, PaymentRequestApproved, PaymentRequestRejected, PaymentRequestCancelled} {
		noteEvents[noteKey(d)] = noteSpec{d, KindPaymentRequest}
	}
}

// moneyEventOf reads the request an event is about (nil: none).
func moneyEventOf(raw json.RawMessage) *MoneyEvent {
	var d struct {
		Cancellation struct {
			ID, StatusCode, StatusMessage string
		} `json:"agreementCancellationRequest"`
		Billing struct {
			ID            string `json:"billingAdjustmentRequestId"`
			Status        string `json:"status"`
			StatusMessage string `json:"statusMessage"`
		} `json:"billingAdjustmentRequest"`
		Payment struct {
			ID            string `json:"paymentRequestId"`
			Status        string `json:"status"`
			StatusMessage string `json:"statusMessage"`
			ChargeID      string `json:"chargeId"`
		} `json:"paymentRequest"`
	}
	if raw == nil || json.Unmarshal(raw, &d) != nil {
		return nil
	}
	switch {
	case d.Billing.ID != "":
		return &MoneyEvent{Kind: store.AgreementRefund, ExternalID: d.Billing.ID, Status: d.Billing.Status, Message: d.Billing.StatusMessage}
	case d.Cancellation.ID != "":
		return &MoneyEvent{Kind: store.AgreementCancellation, ExternalID: d.Cancellation.ID, Status: d.Cancellation.StatusCode, Message: d.Cancellation.StatusMessage}
	case d.Payment.ID != "":
		return &MoneyEvent{Kind: store.AgreementPayment, ExternalID: d.Payment.ID, Status: d.Payment.Status, Message: d.Payment.StatusMessage, ChargeID: d.Payment.ChargeID}
	}
	return nil
}
