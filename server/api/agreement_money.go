package api

import (
	"errors"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/marketgate/marketgate/server/apperr"
	"github.com/marketgate/marketgate/server/awsmp"
	"github.com/marketgate/marketgate/store"
)

// Money actions on an AWS subscription's agreement (issue 20): the
// agreement's invoices and charges, refunds, cancellation requests and
// payment requests. Staff read; admins act, each action confirmed with its
// consequence and audited with before and after; customer admins read
// their own agreement's charges and what waits for them (/api/my/...).

// agreementRequestStep is one step of a request's history.
type agreementRequestStep struct {
	Status    string    `json:"status"`
	AWSStatus string    `json:"aws_status"`
	Message   string    `json:"message"`
	Actor     string    `json:"actor"`
	Source    string    `json:"source" enum:"portal,poll,event"`
	At        time.Time `json:"at"`
}

// agreementRequestView is a refund, cancellation request or payment request.
type agreementRequestView struct {
	ID            uint                   `json:"id"`
	Kind          string                 `json:"kind" enum:"refund,cancellation,payment"`
	Status        string                 `json:"status" enum:"sending,pending,completed,approved,rejected,withdrawn,failed"`
	AWSStatus     string                 `json:"aws_status"`
	AWSID         string                 `json:"aws_id"`
	AgreementID   string                 `json:"agreement_id"`
	Amount        string                 `json:"amount"`
	Currency      string                 `json:"currency"`
	InvoiceID     string                 `json:"invoice_id"`
	ReasonCode    string                 `json:"reason_code"`
	Name          string                 `json:"name"`
	Note          string                 `json:"note"`
	StatusMessage string                 `json:"status_message"`
	ErrorCode     string                 `json:"error_code"`
	Error         string                 `json:"error"`
	ChargeID      string                 `json:"charge_id"`
	RequestedBy   string                 `json:"requested_by"`
	WithdrawnBy   string                 `json:"withdrawn_by"`
	RespondBy     *time.Time             `json:"respond_by"`
	CreatedAt     time.Time              `json:"created_at"`
	UpdatedAt     time.Time              `json:"updated_at"`
	Summary       string                 `json:"summary"`
	History       []agreementRequestStep `json:"history"`
}

func viewAgreementRequest(r *store.AgreementRequest, steps []store.AgreementRequestEvent) agreementRequestView {
	v := agreementRequestView{ID: r.ID, Kind: r.Kind, Status: r.Status, AWSStatus: r.AWSStatus, AWSID: r.ExternalID, AgreementID: r.AgreementID,
		Amount: r.Amount, Currency: r.Currency, InvoiceID: r.InvoiceID, ReasonCode: r.ReasonCode, Name: r.Name, Note: r.Note,
		StatusMessage: r.StatusMessage, ErrorCode: r.ErrorCode, Error: r.Error, ChargeID: r.ChargeID, RequestedBy: r.RequestedBy,
		WithdrawnBy: r.WithdrawnBy, RespondBy: r.RespondBy, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, Summary: awsmp.OutcomeSummary(r),
		History: []agreementRequestStep{}}
	for _, e := range steps {
		v.History = append(v.History, agreementRequestStep{Status: e.Status, AWSStatus: e.AWSStatus, Message: e.Message, Actor: e.Actor, Source: e.Source, At: e.At})
	}
	return v
}

// agreementMoneyAnswer is an AWS subscription's agreement money: what AWS
// billed, what can still be refunded or charged, and the requests made.
type agreementMoneyAnswer struct {
	SubscriptionID uint   `json:"subscription_id"`
	AgreementID    string `json:"agreement_id"`
	// Available: AWS's Agreement Service answered; otherwise Note says why
	// (no agreement, no Agreement Service in this partition, AWS's error).
	Available bool                   `json:"available"`
	Note      string                 `json:"note"`
	Invoices  []awsmp.InvoiceLine    `json:"invoices"`
	Charges   []awsmp.Charge         `json:"charges"`
	Variable  *awsmp.VariableTerm    `json:"variable_term"`
	Remaining string                 `json:"remaining"` // what payment requests may still charge
	Requests  []agreementRequestView `json:"requests"`
	// AWS's reason codes for each action.
	RefundReasons       []string `json:"refund_reasons"`
	CancellationReasons []string `json:"cancellation_reasons"`
}

// moneySubscription is the AWS subscription of the route and its running
// agreement ("" when it has none).
func (s *Server) moneySubscription(c *gin.Context) (*store.Subscription, string, error) {
	sub, err := s.scopedSubscription(c)
	if err != nil {
		return nil, "", err
	}
	if sub.Marketplace != "aws" {
		return nil, "", apperr.New(apperr.NotFound, "subscription %d is not an AWS subscription", sub.ID)
	}
	ags, err := s.Store.SubscriptionAgreements(c.Request.Context(), sub.ID)
	if err != nil {
		return nil, "", err
	}
	var best *store.AWSAgreement
	for i := range ags {
		a := &ags[i]
		if best == nil || a.CreatedAt.After(best.CreatedAt) || (a.CreatedAt.Equal(best.CreatedAt) && a.ID > best.ID) {
			best = a
		}
	}
	if best == nil {
		return sub, "", nil
	}
	return sub, best.AgreementID, nil
}

func (s *Server) agreementRequests(c *gin.Context, f store.AgreementRequestFilter) ([]agreementRequestView, error) {
	ctx := c.Request.Context()
	rows, err := s.Store.ListAgreementRequests(ctx, f)
	if err != nil {
		return nil, err
	}
	ids := make([]uint, 0, len(rows))
	for _, r := range rows {
		ids = append(ids, r.ID)
	}
	hist, err := s.Store.AgreementRequestHistory(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make([]agreementRequestView, 0, len(rows))
	for i := range rows {
		out = append(out, viewAgreementRequest(&rows[i], hist[rows[i].ID]))
	}
	return out, nil
}

// getAgreementMoney answers the subscription's agreement money.
func (s *Server) getAgreementMoney(c *gin.Context) (agreementMoneyAnswer, error) {
	sub, agreementID, err := s.moneySubscription(c)
	if err != nil {
		return agreementMoneyAnswer{}, err
	}
	out := agreementMoneyAnswer{SubscriptionID: sub.ID, AgreementID: agreementID, Invoices: []awsmp.InvoiceLine{}, Charges: []awsmp.Charge{},
		RefundReasons: awsmp.RefundReasons, CancellationReasons: awsmp.CancellationReasons}
	if out.Requests, err = s.agreementRequests(c, store.AgreementRequestFilter{SubscriptionID: sub.ID}); err != nil {
		return out, err
	}
	switch {
	case agreementID == "":
		out.Note = "no AWS agreement is linked to this subscription yet (License Updated links it)"
		return out, nil
	case s.AWSMoney == nil:
		out.Note = "AWS Marketplace is not configured"
		return out, nil
	}
	b, err := s.AWSMoney.Billing(c.Request.Context(), agreementID)
	if err != nil {
		out.Note = s.moneyNote(c, err)
		return out, nil
	}
	out.Available, out.Invoices, out.Charges, out.Variable = true, b.Invoices, b.Charges, b.Variable
	if b.Variable != nil {
		left, err := s.AWSMoney.Remaining(c.Request.Context(), sub.ID, b.Variable)
		if err != nil {
			return out, err
		}
		out.Remaining = left.FloatString(2)
	}
	return out, nil
}

// moneyNote says why AWS gave no billing.
func (s *Server) moneyNote(c *gin.Context, err error) string {
	if errors.Is(err, awsmp.ErrNoAgreementAPI) {
		return "this AWS partition has no Agreement Service"
	}
	s.Log.Warn("aws agreement billing", "request_id", requestID(c), "err", err)
	return "AWS did not answer with the agreement's billing: " + awsErrorText(err)
}

func awsErrorText(err error) string {
	msg := err.Error()
	if i := strings.LastIndex(msg, ", "); i >= 0 && strings.Contains(msg, "api error") {
		msg = msg[i+2:]
	}
	return msg
}

// moneyConfirm: a money action states its consequence and needs the
// admin's confirmation.
func moneyConfirm(confirm bool, consequence string) error {
	if confirm {
		return nil
	}
	return &apperr.Error{Code: apperr.Invalid, Message: "confirm this action: " + consequence,
		Fields: []apperr.FieldError{{Field: "confirm", Code: "confirmation_required", Message: consequence}}}
}

// moneyError is the client's error for a money action.
func (s *Server) moneyError(c *gin.Context, err error) error {
	var refused *awsmp.RefusedError
	switch {
	case errors.As(err, &refused):
		return &apperr.Error{Code: apperr.Invalid, Message: refused.Message,
			Fields: []apperr.FieldError{{Field: refused.Field, Code: refused.Code, Message: refused.Message}}}
	case errors.Is(err, awsmp.ErrRequestOpen):
		return apperr.New(apperr.Conflict, "a request of this kind is already waiting for the buyer; withdraw it or wait for the answer")
	case errors.Is(err, awsmp.ErrNotWithdrawable):
		return apperr.New(apperr.Conflict, "the request is not waiting for the buyer any more")
	case errors.Is(err, awsmp.ErrNoAgreementAPI):
		return apperr.New(apperr.Unavailable, "AWS's Agreement Service is not available")
	}
	s.Log.Warn("aws agreement action", "request_id", requestID(c), "err", err)
	return apperr.New(apperr.Upstream, "AWS did not confirm the request (%s); it is kept and sent again with the same token, so it is never made twice", awsErrorText(err))
}

// refundInput is a refund an admin asks for.
type refundInput struct {
	InvoiceID  string `json:"invoice_id"`
	Amount     string `json:"amount"`
	ReasonCode string `json:"reason_code"`
	Note       string `json:"note,omitempty"`
	Confirm    bool   `json:"confirm"`
}

// agreementRequestAnswer is a request as it stands after the action.
type agreementRequestAnswer struct {
	Request agreementRequestView `json:"request"`
}

// moneyAction runs an action on the route's agreement and answers the
// request, audited with its before (nil: new) and after.
func (s *Server) moneyAction(c *gin.Context, kind string, run func(sub *store.Subscription, agreementID string, act awsmp.Action) (*store.AgreementRequest, error)) (agreementRequestAnswer, error) {
	sub, agreementID, err := s.moneySubscription(c)
	if err != nil {
		return agreementRequestAnswer{}, err
	}
	if agreementID == "" {
		return agreementRequestAnswer{}, apperr.New(apperr.Conflict, "no AWS agreement is linked to this subscription yet")
	}
	if s.AWSMoney == nil {
		return agreementRequestAnswer{}, apperr.New(apperr.Unavailable, "AWS Marketplace is not configured")
	}
	key := strings.TrimSpace(c.GetHeader("Idempotency-Key"))
	if len(key) > 128 {
		return agreementRequestAnswer{}, apperr.New(apperr.Invalid, "the Idempotency-Key header is longer than 128 characters")
	}
	u := currentUser(c)
	existing := false
	if key != "" {
		_, err := s.Store.Reads(c.Request.Context()).AgreementRequestByKey(sub.ID, kind, key)
		existing = err == nil
	}
	r, err := run(sub, agreementID, awsmp.Action{Actor: u.Email, IdempotencyKey: key})
	if r != nil && !existing {
		s.audit(c, u, auditAction(kind), "subscription", sub.ID, nil, viewAgreementRequest(r, nil))
	}
	if err != nil {
		return agreementRequestAnswer{}, s.moneyError(c, err)
	}
	return agreementRequestAnswer{Request: viewAgreementRequest(r, nil)}, nil
}

// createRefund asks AWS to refund part or all of an invoice.
func (s *Server) createRefund(c *gin.Context, in refundInput) (agreementRequestAnswer, error) {
	if err := moneyConfirm(in.Confirm, "AWS refunds "+in.Amount+" of invoice "+in.InvoiceID+" to the buyer; a refund cannot be undone"); err != nil {
		return agreementRequestAnswer{}, err
	}
	return s.moneyAction(c, store.AgreementRefund, func(sub *store.Subscription, agreementID string, act awsmp.Action) (*store.AgreementRequest, error) {
		return s.AWSMoney.Refund(c.Request.Context(), sub, agreementID, awsmp.RefundInput{InvoiceID: in.InvoiceID, Amount: strings.TrimSpace(in.Amount),
			Reason: in.ReasonCode, Note: in.Note}, act)
	})
}

// cancellationInput is a cancellation request an admin sends.
type cancellationInput struct {
	ReasonCode string `json:"reason_code"`
	Note       string `json:"note,omitempty"`
	Confirm    bool   `json:"confirm"`
}

// createCancellationRequest asks the buyer to approve the agreement's
// cancellation.
func (s *Server) createCancellationRequest(c *gin.Context, in cancellationInput) (agreementRequestAnswer, error) {
	if err := moneyConfirm(in.Confirm, "the buyer has 7 days to answer; if they approve or do not answer, AWS ends the agreement, the customer loses access and final usage is metered"); err != nil {
		return agreementRequestAnswer{}, err
	}
	return s.moneyAction(c, store.AgreementCancellation, func(sub *store.Subscription, agreementID string, act awsmp.Action) (*store.AgreementRequest, error) {
		return s.AWSMoney.RequestCancellation(c.Request.Context(), sub, agreementID, awsmp.CancellationInput{Reason: in.ReasonCode, Note: in.Note}, act)
	})
}

// paymentInput is a payment request an admin sends.
type paymentInput struct {
	Amount  string `json:"amount"`
	Name    string `json:"name"`
	Note    string `json:"note,omitempty"`
	Confirm bool   `json:"confirm"`
}

// createPaymentRequest sends a charge against the variable-payment term.
func (s *Server) createPaymentRequest(c *gin.Context, in paymentInput) (agreementRequestAnswer, error) {
	if err := moneyConfirm(in.Confirm, "AWS asks the buyer to approve a charge of "+in.Amount+"; once approved the buyer is billed"); err != nil {
		return agreementRequestAnswer{}, err
	}
	return s.moneyAction(c, store.AgreementPayment, func(sub *store.Subscription, agreementID string, act awsmp.Action) (*store.AgreementRequest, error) {
		return s.AWSMoney.RequestPayment(c.Request.Context(), sub, agreementID, awsmp.PaymentInput{Amount: strings.TrimSpace(in.Amount), Name: in.Name, Note: in.Note}, act)
	})
}

// withdrawInput withdraws a request while the buyer has not answered.
type withdrawInput struct {
	Reason  string `json:"reason,omitempty"`
	Confirm bool   `json:"confirm"`
}

func (s *Server) routeRequest(c *gin.Context) (*store.Subscription, *store.AgreementRequest, error) {
	sub, _, err := s.moneySubscription(c)
	if err != nil {
		return nil, nil, err
	}
	id, err := idParam(c, "request")
	if err != nil {
		return nil, nil, err
	}
	r, err := s.Store.Reads(c.Request.Context()).AgreementRequestByID(sub.ID, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, apperr.New(apperr.NotFound, "request %d does not exist", id)
	}
	return sub, r, err
}

// withdrawAgreementRequest withdraws a pending cancellation or payment request.
func (s *Server) withdrawAgreementRequest(c *gin.Context, in withdrawInput) (agreementRequestAnswer, error) {
	if err := moneyConfirm(in.Confirm, "AWS withdraws the request; the buyer can no longer answer it"); err != nil {
		return agreementRequestAnswer{}, err
	}
	sub, r, err := s.routeRequest(c)
	if err != nil {
		return agreementRequestAnswer{}, err
	}
	if s.AWSMoney == nil {
		return agreementRequestAnswer{}, apperr.New(apperr.Unavailable, "AWS Marketplace is not configured")
	}
	before := viewAgreementRequest(r, nil)
	u := currentUser(c)
	if err := s.AWSMoney.Withdraw(c.Request.Context(), r, strings.TrimSpace(in.Reason), u.Email); err != nil {
		return agreementRequestAnswer{}, s.moneyError(c, err)
	}
	after := viewAgreementRequest(r, nil)
	s.audit(c, u, auditAction(r.Kind)+".withdraw", "subscription", sub.ID, before, after)
	return agreementRequestAnswer{Request: after}, nil
}

// refreshAgreementRequest asks AWS where a request stands now.
func (s *Server) refreshAgreementRequest(c *gin.Context) (agreementRequestAnswer, error) {
	_, r, err := s.routeRequest(c)
	if err != nil {
		return agreementRequestAnswer{}, err
	}
	if s.AWSMoney == nil {
		return agreementRequestAnswer{}, apperr.New(apperr.Unavailable, "AWS Marketplace is not configured")
	}
	ctx := c.Request.Context()
	switch {
	case r.Status == store.RequestSending:
		_, err = s.AWSMoney.Resend(ctx, r)
	case r.ExternalID != "":
		err = s.AWSMoney.Check(ctx, r)
	}
	if err != nil {
		return agreementRequestAnswer{}, s.moneyError(c, err)
	}
	return agreementRequestAnswer{Request: viewAgreementRequest(r, nil)}, nil
}

// myAgreementAnswer is what a customer admin sees of their subscription's
// AWS agreement: its charges and invoices, and the seller's cancellation
// or payment request waiting for them (answered in AWS Marketplace).
type myAgreementAnswer struct {
	SubscriptionID      uint                `json:"subscription_id"`
	AgreementID         string              `json:"agreement_id"`
	Available           bool                `json:"available"`
	Charges             []awsmp.Charge      `json:"charges"`
	Invoices            []awsmp.InvoiceLine `json:"invoices"`
	PendingCancellation *myPendingRequest   `json:"pending_cancellation"`
	PendingPayment      *myPendingRequest   `json:"pending_payment"`
}

// myPendingRequest is a seller's request waiting for the customer.
type myPendingRequest struct {
	ReasonCode string     `json:"reason_code"`
	Amount     string     `json:"amount"`
	Currency   string     `json:"currency"`
	Name       string     `json:"name"`
	RespondBy  *time.Time `json:"respond_by"`
	CreatedAt  time.Time  `json:"created_at"`
}

// getMyAgreement answers the customer admin's agreement, read-only.
func (s *Server) getMyAgreement(c *gin.Context) (myAgreementAnswer, error) {
	sub, agreementID, err := s.moneySubscription(c)
	if err != nil {
		return myAgreementAnswer{}, err
	}
	out := myAgreementAnswer{SubscriptionID: sub.ID, AgreementID: agreementID, Charges: []awsmp.Charge{}, Invoices: []awsmp.InvoiceLine{}}
	rows, err := s.Store.ListAgreementRequests(c.Request.Context(), store.AgreementRequestFilter{SubscriptionID: sub.ID, CustomerID: customerScope(currentUser(c)), Limit: 50})
	if err != nil {
		return out, err
	}
	for i := range rows {
		r := &rows[i]
		if r.Status != store.RequestPending {
			continue
		}
		p := &myPendingRequest{ReasonCode: r.ReasonCode, Amount: r.Amount, Currency: r.Currency, Name: r.Name, RespondBy: r.RespondBy, CreatedAt: r.CreatedAt}
		if r.Kind == store.AgreementCancellation && out.PendingCancellation == nil {
			out.PendingCancellation = p
		}
		if r.Kind == store.AgreementPayment && out.PendingPayment == nil {
			out.PendingPayment = p
		}
	}
	if agreementID == "" || s.AWSMoney == nil {
		return out, nil
	}
	b, err := s.AWSMoney.Billing(c.Request.Context(), agreementID)
	if err != nil {
		s.Log.Warn("aws agreement billing for a customer", "request_id", requestID(c), "err", err)
		return out, nil
	}
	out.Available, out.Charges = true, b.Charges
	for _, l := range b.Invoices {
		l.MaxRefundable = ""
		out.Invoices = append(out.Invoices, l)
	}
	return out, nil
}

// auditAction is the audit log's name of a kind of request.
func auditAction(kind string) string {
	switch kind {
	case store.AgreementRefund:
		return "agreement.refund"
	case store.AgreementCancellation:
		return "agreement.cancellation_request"
	}
	return "agreement.payment_request"
}
