package awsfake

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/smithy-go/encoding/cbor"
)

// The money side of the Agreement Service (aws-sdk-go-v2
// marketplaceagreement v1.30.8): an agreement's invoices and charges
// (ListAgreementInvoiceLineItems, ListAgreementCharges), refunds
// (BatchCreateBillingAdjustmentRequest, Get/ListBillingAdjustmentRequests),
// seller-initiated cancellations (SendAgreementCancellationRequest,
// Get/List/CancelAgreementCancellationRequest) and payment requests
// against a variable-payment term (SendAgreementPaymentRequest,
// Get/List/CancelAgreementPaymentRequest). The buyer's side (approve or
// reject a cancellation or a payment request) and the passing of time (a
// cancellation request nobody answers is approved after 7 days; a payment
// request under AUTO_APPROVE_ON_EXPIRATION is approved when its
// expirationDuration passes; a refund settles) are Go methods the
// sandbox's buyer page calls. Each outcome is told through Notify, which
// the sandbox turns into the EventBridge event AWS puts on the queue.

// CancellationWindow: "You have 7 days to approve or deny the request. If
// you don't respond, the cancellation is automatically approved" (AWS
// Marketplace buyer guide, Cancellation and billing adjustment events).
const CancellationWindow = 7 * 24 * time.Hour

// Invoice is one invoice of an agreement as ListAgreementInvoiceLineItems
// answers it (grouped by INVOICE_ID).
type Invoice struct {
	ID       string
	Amount   string // pre-tax, a decimal
	Currency string // ISO 4217
	Issued   time.Time
}

// VariablePayment is an agreement's VariablePaymentTerm: the most the
// seller may charge through payment requests, and how a request the buyer
// does not answer ends.
type VariablePayment struct {
	TermID     string
	MaxTotal   string // maxTotalChargeAmount
	Currency   string
	AutoAfter  time.Duration // AUTO_APPROVE_ON_EXPIRATION after this; 0: WAIT_FOR_APPROVAL
	Expiration string        // the ISO 8601 expirationDuration shown ("P10D")
}

// MoneyNotice is an outcome AWS announces by EventBridge: the detail type
// (without its role suffix), the event's own object, and whether the
// agreement ended with it (an approved cancellation: Purchase Agreement
// Ended, status CANCELLED, follows).
type MoneyNotice struct {
	AgreementID string
	DetailType  string
	Detail      map[string]any
	Ended       bool
	At          time.Time
}

// units are amounts in 1e-8 of the currency unit: AWS's amounts have at
// most 8 decimals ("Pattern: [0-9]*(\.[0-9]{0,8})?").
type units int64

var amountPattern = regexp.MustCompile(`^[0-9]*(\.[0-9]{0,8})?$`)

func parseUnits(s string) (units, bool) {
	if s == "" || s == "." || !amountPattern.MatchString(s) {
		return 0, false
	}
	whole, frac, _ := strings.Cut(s, ".")
	if len(whole) > 10 {
		return 0, false
	}
	w, _ := strconv.ParseInt("0"+whole, 10, 64)
	f, _ := strconv.ParseInt((frac + "00000000")[:8], 10, 64)
	return units(w*100000000 + f), true
}

func (u units) String() string {
	s := fmt.Sprintf("%d.%08d", u/100000000, u%100000000)
	s = strings.TrimRight(s, "0")
	if strings.HasSuffix(s, ".") {
		s += "00"
	} else if i := strings.IndexByte(s, '.'); len(s)-i == 2 {
		s += "0"
	}
	return s
}

type fakeInvoice struct {
	id, typ, currency string
	amount, maxAdj    units
	issued            time.Time
}

type fakeAdjustment struct {
	id, token, invoice, reason, description, currency, status, message string
	amount                                                             units
	created, updated                                                   time.Time
}

type fakeCancellation struct {
	id, token, reason, description, status, message string
	created, updated                                time.Time
}

type fakePayment struct {
	id, token, name, description, status, message, chargeID, currency string
	amount                                                            units
	created, updated                                                  time.Time
}

type fakeCharge struct {
	id, currency string
	amount       units
	at           time.Time
}

// agreementMoney is what the fake holds of one agreement's money.
type agreementMoney struct {
	invoices      []*fakeInvoice
	charges       []fakeCharge
	adjustments   []*fakeAdjustment
	cancellations []*fakeCancellation
	payments      []*fakePayment
	variable      *VariablePayment
	ended         bool
}

// moneyState is the fake's money side, embedded in AgreementService.
type moneyState struct {
	// Clock is the fake's time (nil: time.Now), moved on by Elapse.
	Clock func() time.Time
	// Notify hears every outcome AWS announces by EventBridge (nil: none).
	Notify func(MoneyNotice)
	// AdjustmentDelay is how long a refund takes to settle.
	AdjustmentDelay time.Duration

	moneyOf     map[string]*agreementMoney
	failInvoice map[string]string
	pending     []MoneyNotice // told once the call's lock is released
	skew        time.Duration
}

// money is what the fake holds of an agreement's money (the caller holds
// the lock).
func (f *AgreementService) money(id string) *agreementMoney {
	if f.moneyOf == nil {
		f.moneyOf = map[string]*agreementMoney{}
	}
	m := f.moneyOf[id]
	if m == nil {
		m = &agreementMoney{}
		f.moneyOf[id] = m
	}
	return m
}

func (f *AgreementService) now() time.Time {
	t := time.Now()
	if f.Clock != nil {
		t = f.Clock()
	}
	return t.Add(f.skew).UTC().Truncate(time.Second)
}

// Elapse moves the fake's time on (the buyer lets days pass) and settles
// what is due: refunds, unanswered cancellation requests (7 days), payment
// requests that expire.
func (f *AgreementService) Elapse(d time.Duration) {
	f.mu.Lock()
	f.skew += d
	out := f.settle()
	f.mu.Unlock()
	f.tell(out)
}

// Settle settles what is due now (the sandbox calls it on its page).
func (f *AgreementService) Settle() {
	f.mu.Lock()
	out := f.settle()
	f.mu.Unlock()
	f.tell(out)
}

func (f *AgreementService) tell(out []MoneyNotice) {
	if f.Notify == nil {
		return
	}
	for _, n := range out {
		f.Notify(n)
	}
}

// SetInvoice adds (or replaces) an invoice of an agreement; its whole
// pre-tax amount can be refunded.
func (f *AgreementService) SetInvoice(agreementID string, inv Invoice) {
	amount, ok := parseUnits(inv.Amount)
	if !ok {
		panic("awsfake: bad invoice amount " + inv.Amount)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	m := f.money(agreementID)
	for _, x := range m.invoices {
		if x.id == inv.ID {
			x.amount, x.maxAdj, x.currency, x.issued = amount, amount, inv.Currency, inv.Issued.UTC()
			return
		}
	}
	m.invoices = append(m.invoices, &fakeInvoice{id: inv.ID, typ: "INVOICE", currency: inv.Currency, amount: amount, maxAdj: amount, issued: inv.Issued.UTC()})
	m.charges = append(m.charges, fakeCharge{id: "ch-" + shortID(), currency: inv.Currency, amount: amount, at: inv.Issued.UTC()})
}

// SetVariablePayment gives an agreement a VariablePaymentTerm.
func (f *AgreementService) SetVariablePayment(agreementID string, v VariablePayment) {
	strategy := "WAIT_FOR_APPROVAL"
	if v.AutoAfter > 0 {
		strategy = "AUTO_APPROVE_ON_EXPIRATION"
	}
	cfg := map[string]any{"paymentRequestApprovalStrategy": strategy}
	if v.Expiration != "" {
		cfg["expirationDuration"] = v.Expiration
	}
	term := map[string]any{"variablePaymentTerm": map[string]any{"id": v.TermID, "type": "VariablePaymentTerm", "currencyCode": v.Currency,
		"maxTotalChargeAmount": v.MaxTotal, "configuration": cfg}}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.money(agreementID).variable = &v
	kept := []map[string]any{}
	for _, t := range f.terms[agreementID] {
		if _, ok := t["variablePaymentTerm"]; !ok {
			kept = append(kept, t)
		}
	}
	f.terms[agreementID] = append(kept, term)
}

// Refunds is how many billing adjustment requests AWS created for an
// agreement (a retried request with the same client token creates none).
func (f *AgreementService) Refunds(agreementID string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.money(agreementID).adjustments)
}

// FailRefunds makes the refunds of an invoice settle as VALIDATION_FAILED
// with the message.
func (f *AgreementService) FailRefunds(invoiceID, message string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failInvoice == nil {
		f.failInvoice = map[string]string{}
	}
	f.failInvoice[invoiceID] = message
}

// PendingCancellation is the id of an agreement's cancellation request
// waiting for the buyer, "" for none.
func (f *AgreementService) PendingCancellation(agreementID string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range f.money(agreementID).cancellations {
		if c.status == "PENDING_APPROVAL" {
			return c.id
		}
	}
	return ""
}

// PendingPayment is the id of an agreement's payment request waiting for
// the buyer, "" for none.
func (f *AgreementService) PendingPayment(agreementID string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, p := range f.money(agreementID).payments {
		if p.status == "PENDING_APPROVAL" {
			return p.id
		}
	}
	return ""
}

// ErrNotPending: the buyer answered a request that is not waiting for them.
var ErrNotPending = fmt.Errorf("the request is not pending approval")

// AnswerCancellation is the buyer approving (or rejecting, with a reason)
// a cancellation request. An approved one ends the agreement.
func (f *AgreementService) AnswerCancellation(agreementID, requestID string, approve bool, reason string) error {
	f.mu.Lock()
	m := f.money(agreementID)
	var out []MoneyNotice
	err := ErrNotPending
	for _, c := range m.cancellations {
		if c.id == requestID && c.status == "PENDING_APPROVAL" {
			out, err = f.endCancellation(agreementID, m, c, approve, reason, f.now()), nil
		}
	}
	f.mu.Unlock()
	f.tell(out)
	return err
}

func (f *AgreementService) endCancellation(agreementID string, m *agreementMoney, c *fakeCancellation, approve bool, reason string, at time.Time) []MoneyNotice {
	c.updated = at
	if !approve {
		c.status, c.message = "REJECTED", reason
		return []MoneyNotice{cancellationNotice(agreementID, c, "Agreement Cancellation Request Rejected")}
	}
	c.status, c.message = "APPROVED", reason
	m.ended = true
	n := cancellationNotice(agreementID, c, "Agreement Cancellation Request Approved")
	n.Ended = true
	return []MoneyNotice{n}
}

// AnswerPayment is the buyer approving (a charge follows) or rejecting a
// payment request.
func (f *AgreementService) AnswerPayment(agreementID, requestID string, approve bool, reason string) error {
	f.mu.Lock()
	m := f.money(agreementID)
	var out []MoneyNotice
	err := ErrNotPending
	for _, p := range m.payments {
		if p.id == requestID && p.status == "PENDING_APPROVAL" {
			out, err = []MoneyNotice{f.endPayment(agreementID, m, p, approve, reason, f.now())}, nil
		}
	}
	f.mu.Unlock()
	f.tell(out)
	return err
}

func (f *AgreementService) endPayment(agreementID string, m *agreementMoney, p *fakePayment, approve bool, reason string, at time.Time) MoneyNotice {
	p.updated = at
	if !approve {
		p.status, p.message = "REJECTED", reason
		return paymentNotice(agreementID, p, "Agreement Payment Request Rejected")
	}
	p.status, p.message, p.chargeID = "APPROVED", reason, "ch-"+shortID()
	m.charges = append(m.charges, fakeCharge{id: p.chargeID, currency: p.currency, amount: p.amount, at: at})
	return paymentNotice(agreementID, p, "Agreement Payment Request Approved")
}

// settle applies what time has made due; the caller holds the lock.
func (f *AgreementService) settle() []MoneyNotice {
	now := f.now()
	var out []MoneyNotice
	ids := make([]string, 0, len(f.moneyOf))
	for id := range f.moneyOf {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		m := f.moneyOf[id]
		out = append(out, f.settleAdjustments(id, m, now)...)
		for _, c := range m.cancellations {
			if c.status == "PENDING_APPROVAL" && !now.Before(c.created.Add(CancellationWindow)) {
				out = append(out, f.endCancellation(id, m, c, true, "approved automatically: the buyer did not answer within 7 days", now)...)
			}
		}
		for _, p := range m.payments {
			if p.status == "PENDING_APPROVAL" && m.variable != nil && m.variable.AutoAfter > 0 && !now.Before(p.created.Add(m.variable.AutoAfter)) {
				out = append(out, f.endPayment(id, m, p, true, "approved automatically when the request expired (AUTO_APPROVE_ON_EXPIRATION)", now))
			}
		}
	}
	return out
}

func (f *AgreementService) settleAdjustments(agreementID string, m *agreementMoney, now time.Time) []MoneyNotice {
	var out []MoneyNotice
	for _, a := range m.adjustments {
		if a.status != "PENDING" || now.Before(a.created.Add(f.AdjustmentDelay)) {
			continue
		}
		a.updated = now
		inv := m.invoice(a.invoice)
		if msg, bad := f.failInvoice[a.invoice]; bad || inv == nil || a.amount > inv.maxAdj {
			a.status, a.message = "VALIDATION_FAILED", msg
			if a.message == "" {
				a.message = "the amount exceeds what is left to refund on the invoice"
			}
			out = append(out, adjustmentNotice(agreementID, a, "Purchase Agreement Billing Adjustment Failed"))
			continue
		}
		a.status = "COMPLETED"
		inv.maxAdj -= a.amount
		m.invoices = append(m.invoices, &fakeInvoice{id: "cm-" + shortID(), typ: "CREDIT_MEMO", currency: a.currency, amount: a.amount, issued: now})
		out = append(out, adjustmentNotice(agreementID, a, "Purchase Agreement Billing Adjustment Completed"))
	}
	return out
}

func (m *agreementMoney) invoice(id string) *fakeInvoice {
	for _, x := range m.invoices {
		if x.id == id && x.typ == "INVOICE" {
			return x
		}
	}
	return nil
}

func cancellationNotice(agreementID string, c *fakeCancellation, detailType string) MoneyNotice {
	return MoneyNotice{AgreementID: agreementID, DetailType: detailType, At: c.updated, Detail: map[string]any{"agreementCancellationRequest": map[string]any{
		"id": c.id, "reasonCode": c.reason, "statusCode": c.status, "statusMessage": c.message,
		"createdAt": c.created.Format(time.RFC3339), "updatedAt": c.updated.Format(time.RFC3339)}}}
}

func adjustmentNotice(agreementID string, a *fakeAdjustment, detailType string) MoneyNotice {
	return MoneyNotice{AgreementID: agreementID, DetailType: detailType, At: a.updated, Detail: map[string]any{"billingAdjustmentRequest": map[string]any{
		"billingAdjustmentRequestId": a.id, "agreementId": agreementID, "adjustmentAmount": a.amount.String(), "currencyCode": a.currency,
		"originalInvoiceId": a.invoice, "adjustmentReasonCode": a.reason, "status": a.status, "statusMessage": a.message}}}
}

// paymentNotice: AWS's pages name the payment-request events after the
// cancellation-request ones ("Agreement Payment Request …"); the object
// mirrors GetAgreementPaymentRequest.
func paymentNotice(agreementID string, p *fakePayment, detailType string) MoneyNotice {
	d := map[string]any{"paymentRequestId": p.id, "agreementId": agreementID, "status": p.status, "statusMessage": p.message,
		"chargeAmount": p.amount.String(), "currencyCode": p.currency, "name": p.name}
	if p.chargeID != "" {
		d["chargeId"] = p.chargeID
	}
	return MoneyNotice{AgreementID: agreementID, DetailType: detailType, At: p.updated, Detail: map[string]any{"paymentRequest": d}}
}

func shortID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// moneyOperations are the operations this file serves, with their handler.
var moneyOperations = map[string]func(f *AgreementService, in map[string]any) (map[string]any, *agreementFault){
	"ListAgreementInvoiceLineItems":       (*AgreementService).listInvoices,
	"ListAgreementCharges":                (*AgreementService).listCharges,
	"BatchCreateBillingAdjustmentRequest": (*AgreementService).createAdjustments,
	"GetBillingAdjustmentRequest":         (*AgreementService).getAdjustment,
	"ListBillingAdjustmentRequests":       (*AgreementService).listAdjustments,
	"SendAgreementCancellationRequest":    (*AgreementService).sendCancellation,
	"GetAgreementCancellationRequest":     (*AgreementService).getCancellation,
	"ListAgreementCancellationRequests":   (*AgreementService).listCancellations,
	"CancelAgreementCancellationRequest":  (*AgreementService).withdrawCancellation,
	"SendAgreementPaymentRequest":         (*AgreementService).sendPayment,
	"GetAgreementPaymentRequest":          (*AgreementService).getPayment,
	"ListAgreementPaymentRequests":        (*AgreementService).listPayments,
	"CancelAgreementPaymentRequest":       (*AgreementService).withdrawPayment,
}

// moneyOperation names the money operation a request calls, "" for none.
func moneyOperation(r *http.Request, cborWire bool) string {
	name := r.Header.Get("X-Amz-Target")
	if cborWire {
		_, name, _ = strings.Cut(r.URL.Path, "/service/"+agreementService+"/operation/")
	} else {
		name = strings.TrimPrefix(name, agreementService+".")
	}
	if _, ok := moneyOperations[name]; ok {
		return name
	}
	return ""
}

// serveMoney answers one money operation (the call is counted and any
// injected failure answered already).
func (f *AgreementService) serveMoney(op string, r *http.Request, out agreementWire) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		out.fail(validation("OTHER", "unreadable body"))
		return
	}
	in, err := decodeMoneyInput(body, out.cbor)
	if err != nil {
		out.fail(&agreementFault{http.StatusBadRequest, "SerializationException", err.Error(), nil})
		return
	}
	f.mu.Lock()
	due := f.settle()
	f.mu.Unlock()
	f.tell(due)
	f.mu.Lock()
	before := len(f.pending)
	res, bad := moneyOperations[op](f, in)
	sent := f.pending[before:]
	f.pending = f.pending[:before]
	f.mu.Unlock()
	f.tell(sent)
	if bad != nil {
		out.fail(bad)
		return
	}
	out.reply(http.StatusOK, res)
}

func validation(reason, msg string, fields ...string) *agreementFault {
	extra := map[string]any{"reason": reason}
	if len(fields) > 0 {
		list := []any{}
		for _, n := range fields {
			list = append(list, map[string]any{"name": n, "message": msg})
		}
		extra["fields"] = list
	}
	return &agreementFault{http.StatusBadRequest, "ValidationException", msg, extra}
}

func notFound(kind, id string) *agreementFault {
	return &agreementFault{http.StatusBadRequest, "ResourceNotFoundException", kind + " " + id + " not found",
		map[string]any{"resourceId": id, "resourceType": kind}}
}

func conflict(kind, id, msg string) *agreementFault {
	return &agreementFault{http.StatusBadRequest, "ConflictException", msg, map[string]any{"resourceId": id, "resourceType": kind}}
}

// moneyAgreement checks the request's agreementId ("Length Constraints:
// Minimum length of 1. Maximum length of 64. Pattern: [A-Za-z0-9_/-]+")
// and returns what the fake holds of it; ResourceNotFound for one it
// does not know.
func (f *AgreementService) moneyAgreement(in map[string]any) (string, *agreementMoney, *agreementFault) {
	id := str(in, "agreementId")
	switch {
	case id == "":
		return "", nil, validation("MISSING_AGREEMENT_ID", "agreementId is required", "agreementId")
	case !agreementIDPattern.MatchString(id):
		return "", nil, validation("INVALID_AGREEMENT_ID", "agreementId is not valid", "agreementId")
	}
	_, known := f.terms[id]
	_, has := f.moneyOf[id]
	if !known && !has {
		return "", nil, notFound("Agreement", id)
	}
	return id, f.money(id), nil
}

func str(in map[string]any, k string) string {
	s, _ := in[k].(string)
	return s
}

// page answers items from the request's nextToken, at most maxResults
// (1 to 50; the fake's PageSize at most), with the next token.
func (f *AgreementService) page(in map[string]any, key string, items []any) (map[string]any, *agreementFault) {
	max := f.PageSize
	if v, ok := in["maxResults"]; ok {
		n, ok := v.(int64)
		if !ok || n < 1 || n > 50 {
			return nil, validation("INVALID_MAX_RESULTS", "maxResults must be 1 to 50", "maxResults")
		}
		max = min(int(n), max)
	}
	start := 0
	if tok := str(in, "nextToken"); tok != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(tok, "t-"))
		if err != nil || n < 0 || n > len(items) {
			return nil, validation("INVALID_NEXT_TOKEN", "nextToken is not valid", "nextToken")
		}
		start = n
	}
	end := min(start+max, len(items))
	out := map[string]any{key: append([]any{}, items[start:end]...)}
	if end < len(items) {
		out["nextToken"] = "t-" + strconv.Itoa(end)
	}
	return out, nil
}

func (f *AgreementService) listInvoices(in map[string]any) (map[string]any, *agreementFault) {
	id, m, bad := f.moneyAgreement(in)
	if bad != nil {
		return nil, bad
	}
	if g := str(in, "groupBy"); g != "INVOICE_ID" {
		return nil, validation("INVALID_FILTERS", "groupBy must be INVOICE_ID", "groupBy")
	}
	items := []any{}
	for _, inv := range m.invoices {
		if t := str(in, "invoiceType"); t != "" && t != inv.typ {
			continue
		}
		if x := str(in, "invoiceId"); x != "" && x != inv.id {
			continue
		}
		cur := map[string]any{"amount": inv.amount.String(), "currencyCode": inv.currency}
		if inv.typ == "INVOICE" {
			cur["maxAdjustmentAmount"] = inv.maxAdj.String()
		}
		items = append(items, map[string]any{"agreementId": id, "invoiceId": inv.id, "invoiceType": inv.typ, "issuedTime": inv.issued,
			"invoiceBillingPeriod":  map[string]any{"year": inv.issued.Year(), "month": int(inv.issued.Month())},
			"invoicingEntity":       map[string]any{"legalName": "Amazon Web Services, Inc.", "branchName": "AWS Marketplace"},
			"pricingCurrencyAmount": cur})
	}
	return f.page(in, "agreementInvoiceLineItemGroupSummaries", items)
}

func (f *AgreementService) listCharges(in map[string]any) (map[string]any, *agreementFault) {
	id, m, bad := f.moneyAgreement(in)
	if bad != nil {
		return nil, bad
	}
	items := []any{}
	for _, c := range m.charges {
		items = append(items, map[string]any{"id": c.id, "agreementId": id, "agreementType": "PurchaseAgreement", "amount": c.amount.String(),
			"currencyCode": c.currency, "revision": 1, "time": c.at})
	}
	return f.page(in, "items", items)
}

var (
	clientTokenPattern = regexp.MustCompile(`^[a-zA-Z0-9-]{1,64}$`)
	currencyPattern    = regexp.MustCompile(`^[A-Z]{3}$`)
	adjustmentIDs      = regexp.MustCompile(`^ba-[a-zA-Z0-9]{1,61}$`)
	cancellationIDs    = regexp.MustCompile(`^acr-[a-zA-Z0-9]{1,60}$`)
	paymentIDs         = regexp.MustCompile(`^pr-[a-zA-Z0-9]{1,61}$`)
)

// BillingAdjustmentReasons are AWS's reason codes for a refund
// (BillingAdjustmentReasonCode).
var BillingAdjustmentReasons = []string{"INCORRECT_TERMS_ACCEPTED", "INCORRECT_METERING", "TEST_ENVIRONMENT_CHARGES",
	"ALTERNATIVE_PROCUREMENT_CHANNEL", "UNINTENDED_RENEWAL", "BUYER_DISSATISFACTION", "OTHER"}

// CancellationReasons are AWS's reason codes for a seller's cancellation
// request (AgreementCancellationRequestReasonCode).
var CancellationReasons = []string{"INCORRECT_TERMS_ACCEPTED", "REPLACING_AGREEMENT", "TEST_AGREEMENT", "ALTERNATIVE_PROCUREMENT_CHANNEL",
	"PRODUCT_DISCONTINUED", "UNINTENDED_RENEWAL", "BUYER_DISSATISFACTION", "OTHER"}

func oneOf(v string, list []string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// createAdjustments: "Each entry requires a unique clientToken for
// idempotency. A ValidationException is returned if the adjustment amount
// exceeds the maximum refundable amount for the invoice." An entry that
// fails comes back in errors (code VALIDATION_EXCEPTION,
// RESOURCE_NOT_FOUND_EXCEPTION, CONFLICT_EXCEPTION) while the others are
// created; a whole request without entries, or with entries of several
// agreements, is refused.
func (f *AgreementService) createAdjustments(in map[string]any) (map[string]any, *agreementFault) {
	entries, _ := in["billingAdjustmentRequestEntries"].([]any)
	if len(entries) == 0 {
		return nil, validation("MISSING_BILLING_ADJUSTMENTS", "billingAdjustmentRequestEntries is required", "billingAdjustmentRequestEntries")
	}
	if len(entries) > 10 {
		return nil, validation("BILLING_ADJUSTMENTS_LIMIT_EXCEEDED", "at most 10 billing adjustment requests at a time", "billingAdjustmentRequestEntries")
	}
	agreements := map[string]bool{}
	for _, e := range entries {
		m, _ := e.(map[string]any)
		agreements[str(m, "agreementId")] = true
	}
	if len(agreements) > 1 {
		return nil, validation("MULTIPLE_AGREEMENT_IDS", "every entry must name the same agreement", "agreementId")
	}
	items, errs := []any{}, []any{}
	for _, e := range entries {
		m, _ := e.(map[string]any)
		if m == nil {
			return nil, validation("MISSING_BILLING_ADJUSTMENT_REQUEST_ENTRY", "an entry is empty")
		}
		token := str(m, "clientToken")
		if !clientTokenPattern.MatchString(token) {
			return nil, validation("INVALID_CLIENT_TOKEN", "clientToken must be 1 to 64 letters, digits or hyphens", "clientToken")
		}
		id, code, msg := f.createAdjustment(m)
		if code != "" {
			errs = append(errs, map[string]any{"clientToken": token, "code": code, "message": msg})
			continue
		}
		items = append(items, map[string]any{"billingAdjustmentRequestId": id, "clientToken": token})
	}
	return map[string]any{"items": items, "errors": errs}, nil
}

func (f *AgreementService) createAdjustment(e map[string]any) (id, code, msg string) {
	agreementID, m, bad := f.moneyAgreement(e)
	if bad != nil {
		if bad.code == "ResourceNotFoundException" {
			return "", "RESOURCE_NOT_FOUND_EXCEPTION", bad.msg
		}
		return "", "VALIDATION_EXCEPTION", bad.msg
	}
	token := str(e, "clientToken")
	for _, a := range m.adjustments {
		if a.token == token {
			return a.id, "", "" // the same request again: the same adjustment
		}
	}
	amount, ok := parseUnits(str(e, "adjustmentAmount"))
	inv := m.invoice(str(e, "originalInvoiceId"))
	reason, cur, desc := str(e, "adjustmentReasonCode"), str(e, "currencyCode"), str(e, "description")
	switch {
	case str(e, "adjustmentAmount") == "":
		return "", "VALIDATION_EXCEPTION", "MISSING_ADJUSTMENT_AMOUNT: adjustmentAmount is required"
	case !ok || amount <= 0:
		return "", "VALIDATION_EXCEPTION", "INVALID_ADJUSTMENT_AMOUNT: adjustmentAmount must be a positive decimal with at most 8 decimals"
	case str(e, "originalInvoiceId") == "":
		return "", "VALIDATION_EXCEPTION", "MISSING_INVOICE_ID: originalInvoiceId is required"
	case inv == nil:
		return "", "RESOURCE_NOT_FOUND_EXCEPTION", "invoice " + str(e, "originalInvoiceId") + " not found for agreement " + agreementID
	case !oneOf(reason, BillingAdjustmentReasons):
		return "", "VALIDATION_EXCEPTION", "INVALID_REASON_CODE: adjustmentReasonCode is not one of AWS's reason codes"
	case !currencyPattern.MatchString(cur) || cur != inv.currency:
		return "", "VALIDATION_EXCEPTION", "INVALID_CURRENCY_CODE: currencyCode must be the invoice's currency, " + inv.currency
	case len(desc) > 500:
		return "", "VALIDATION_EXCEPTION", "INVALID_DESCRIPTION: description is at most 500 characters"
	case amount > inv.maxAdj-m.pendingRefunds(inv.id):
		return "", "VALIDATION_EXCEPTION", "EXCEEDED_MAXIMUM_ADJUSTMENT_AMOUNT: the amount exceeds the maximum refundable amount for the invoice, " +
			(inv.maxAdj - m.pendingRefunds(inv.id)).String() + " " + inv.currency
	}
	now := f.now()
	a := &fakeAdjustment{id: "ba-" + shortID(), token: token, invoice: inv.id, reason: reason, description: desc, currency: cur, status: "PENDING",
		amount: amount, created: now, updated: now}
	m.adjustments = append(m.adjustments, a)
	return a.id, "", ""
}

func (m *agreementMoney) pendingRefunds(invoiceID string) units {
	var sum units
	for _, a := range m.adjustments {
		if a.invoice == invoiceID && a.status == "PENDING" {
			sum += a.amount
		}
	}
	return sum
}

func (f *AgreementService) findAdjustment(in map[string]any) (*fakeAdjustment, *agreementFault) {
	_, m, bad := f.moneyAgreement(in)
	if bad != nil {
		return nil, bad
	}
	id := str(in, "billingAdjustmentRequestId")
	if !adjustmentIDs.MatchString(id) {
		return nil, validation("OTHER", "billingAdjustmentRequestId must match ba-[a-zA-Z0-9]+", "billingAdjustmentRequestId")
	}
	for _, a := range m.adjustments {
		if a.id == id {
			return a, nil
		}
	}
	return nil, notFound("BillingAdjustmentRequest", id)
}

func (f *AgreementService) getAdjustment(in map[string]any) (map[string]any, *agreementFault) {
	a, bad := f.findAdjustment(in)
	if bad != nil {
		return nil, bad
	}
	out := adjustmentView(str(in, "agreementId"), a)
	out["adjustmentReasonCode"] = a.reason
	if a.description != "" {
		out["description"] = a.description
	}
	if a.message != "" {
		out["statusMessage"] = a.message
	}
	return out, nil
}

func adjustmentView(agreementID string, a *fakeAdjustment) map[string]any {
	return map[string]any{"billingAdjustmentRequestId": a.id, "agreementId": agreementID, "adjustmentAmount": a.amount.String(),
		"currencyCode": a.currency, "originalInvoiceId": a.invoice, "status": a.status, "createdAt": a.created, "updatedAt": a.updated,
		"agreementType": "PurchaseAgreement", "catalog": "AWSMarketplace"}
}

func (f *AgreementService) listAdjustments(in map[string]any) (map[string]any, *agreementFault) {
	id, m, bad := f.moneyAgreement(in)
	if bad != nil {
		return nil, bad
	}
	items := []any{}
	for _, a := range m.adjustments {
		if s := str(in, "status"); s == "" || s == a.status {
			items = append(items, adjustmentView(id, a))
		}
	}
	return f.page(in, "items", items)
}

// sendCancellation: "The initial status is PENDING_APPROVAL"; the buyer
// has 7 days. One request waits at a time (a second is a conflict); an
// agreement that has ended cannot be cancelled; the description is 1 to
// 2000 characters.
func (f *AgreementService) sendCancellation(in map[string]any) (map[string]any, *agreementFault) {
	agreementID, m, bad := f.moneyAgreement(in)
	if bad != nil {
		return nil, bad
	}
	token, reason, desc := str(in, "clientToken"), str(in, "reasonCode"), str(in, "description")
	if token != "" {
		for _, c := range m.cancellations {
			if c.token == token {
				return cancellationView(agreementID, c), nil
			}
		}
	}
	switch {
	case token != "" && !clientTokenPattern.MatchString(token):
		return nil, validation("INVALID_CLIENT_TOKEN", "clientToken must be 1 to 64 letters, digits or hyphens", "clientToken")
	case reason == "":
		return nil, validation("MISSING_REASON_CODE", "reasonCode is required", "reasonCode")
	case !oneOf(reason, CancellationReasons):
		return nil, validation("INVALID_REASON_CODE", "reasonCode is not one of AWS's reason codes", "reasonCode")
	case in["description"] != nil && (len(desc) < 1 || len(desc) > 2000):
		return nil, validation("INVALID_DESCRIPTION", "description is 1 to 2000 characters", "description")
	case m.ended:
		return nil, validation("INACTIVE_AGREEMENT", "the agreement is not active", "agreementId")
	}
	for _, c := range m.cancellations {
		if c.status == "PENDING_APPROVAL" {
			return nil, conflict("AgreementCancellationRequest", c.id, "a cancellation request for this agreement is already pending approval")
		}
	}
	now := f.now()
	c := &fakeCancellation{id: "acr-" + shortID(), token: token, reason: reason, description: desc, status: "PENDING_APPROVAL", created: now, updated: now}
	m.cancellations = append(m.cancellations, c)
	f.pending = append(f.pending, cancellationNotice(agreementID, c, "Agreement Cancellation Request Pending Approval"))
	return cancellationView(agreementID, c), nil
}

func cancellationView(agreementID string, c *fakeCancellation) map[string]any {
	out := map[string]any{"agreementCancellationRequestId": c.id, "agreementId": agreementID, "reasonCode": c.reason, "status": c.status,
		"createdAt": c.created, "updatedAt": c.updated, "agreementType": "PurchaseAgreement", "catalog": "AWSMarketplace"}
	if c.description != "" {
		out["description"] = c.description
	}
	if c.message != "" {
		out["statusMessage"] = c.message
	}
	return out
}

func (f *AgreementService) findCancellation(in map[string]any) (string, *fakeCancellation, *agreementFault) {
	agreementID, m, bad := f.moneyAgreement(in)
	if bad != nil {
		return "", nil, bad
	}
	id := str(in, "agreementCancellationRequestId")
	switch {
	case id == "":
		return "", nil, validation("MISSING_AGREEMENT_CANCELLATION_REQUEST_ID", "agreementCancellationRequestId is required", "agreementCancellationRequestId")
	case !cancellationIDs.MatchString(id):
		return "", nil, validation("INVALID_AGREEMENT_CANCELLATION_REQUEST_ID", "agreementCancellationRequestId is not valid", "agreementCancellationRequestId")
	}
	for _, c := range m.cancellations {
		if c.id == id {
			return agreementID, c, nil
		}
	}
	return "", nil, notFound("AgreementCancellationRequest", id)
}

func (f *AgreementService) getCancellation(in map[string]any) (map[string]any, *agreementFault) {
	agreementID, c, bad := f.findCancellation(in)
	if bad != nil {
		return nil, bad
	}
	return cancellationView(agreementID, c), nil
}

// listedAgreement is the agreement a List call names, for the party it
// names: AWS requires partyType, Proposer or Acceptor.
func (f *AgreementService) listedAgreement(in map[string]any) (string, *agreementMoney, *agreementFault) {
	if p := str(in, "partyType"); p != "Proposer" && p != "Acceptor" {
		return "", nil, validation("INVALID_PARTY_TYPE", "partyType must be Proposer or Acceptor", "partyType")
	}
	return f.moneyAgreement(in)
}

func (f *AgreementService) listCancellations(in map[string]any) (map[string]any, *agreementFault) {
	id, m, bad := f.listedAgreement(in)
	if bad != nil {
		return nil, bad
	}
	items := []any{}
	for _, c := range m.cancellations {
		if s := str(in, "status"); s == "" || s == c.status {
			items = append(items, cancellationView(id, c))
		}
	}
	return f.page(in, "items", items)
}

// withdrawCancellation: the seller withdraws a request while it is
// pending; "A required message explaining why the cancellation request is
// being withdrawn (1-2000 characters)".
func (f *AgreementService) withdrawCancellation(in map[string]any) (map[string]any, *agreementFault) {
	agreementID, c, bad := f.findCancellation(in)
	if bad != nil {
		return nil, bad
	}
	why := str(in, "cancellationReason")
	switch {
	case why == "":
		return nil, validation("MISSING_REASON", "cancellationReason is required", "cancellationReason")
	case len(why) > 2000:
		return nil, validation("INVALID_REASON", "cancellationReason is 1 to 2000 characters", "cancellationReason")
	case c.status != "PENDING_APPROVAL":
		return nil, conflict("AgreementCancellationRequest", c.id, "the cancellation request is "+c.status+", not PENDING_APPROVAL")
	}
	c.status, c.message, c.updated = "CANCELLED", why, f.now()
	f.pending = append(f.pending, cancellationNotice(agreementID, c, "Agreement Cancellation Request Cancelled"))
	return cancellationView(agreementID, c), nil
}

// sendPayment: "The agreement must be active and have a
// VariablePaymentTerm to support payment requests. The chargeAmount must
// not exceed the remaining available balance under the
// VariablePaymentTerm maxTotalChargeAmount"; the name is 5 to 64
// characters, the description 1 to 2000.
func (f *AgreementService) sendPayment(in map[string]any) (map[string]any, *agreementFault) {
	agreementID, m, bad := f.moneyAgreement(in)
	if bad != nil {
		return nil, bad
	}
	token := str(in, "clientToken")
	if token != "" {
		for _, p := range m.payments {
			if p.token == token {
				return paymentView(agreementID, p), nil
			}
		}
	}
	if bad := paymentInputFault(in, m, token); bad != nil {
		return nil, bad
	}
	amount, _ := parseUnits(str(in, "chargeAmount"))
	if left := m.remaining(); amount > left {
		return nil, validation("INVALID_CHARGE_AMOUNT", "chargeAmount exceeds the remaining balance of the variable payment term, "+left.String()+" "+m.variable.Currency, "chargeAmount")
	}
	now := f.now()
	p := &fakePayment{id: "pr-" + shortID(), token: token, name: str(in, "name"), description: str(in, "description"), status: "PENDING_APPROVAL",
		currency: m.variable.Currency, amount: amount, created: now, updated: now}
	m.payments = append(m.payments, p)
	f.pending = append(f.pending, paymentNotice(agreementID, p, "Agreement Payment Request Pending Approval"))
	return paymentView(agreementID, p), nil
}

func paymentInputFault(in map[string]any, m *agreementMoney, token string) *agreementFault {
	name, desc, term := str(in, "name"), str(in, "description"), str(in, "termId")
	amount, ok := parseUnits(str(in, "chargeAmount"))
	if token != "" && !clientTokenPattern.MatchString(token) {
		return validation("INVALID_CLIENT_TOKEN", "clientToken must be 1 to 64 letters, digits or hyphens", "clientToken")
	}
	switch {
	case str(in, "chargeAmount") == "":
		return validation("MISSING_CHARGE_AMOUNT", "chargeAmount is required", "chargeAmount")
	case !ok || amount <= 0:
		return validation("INVALID_CHARGE_AMOUNT", "chargeAmount must be a positive decimal", "chargeAmount")
	case nameFault(name, desc, in["description"] != nil) != nil:
		return nameFault(name, desc, in["description"] != nil)
	case term == "":
		return validation("MISSING_TERM_ID", "termId is required", "termId")
	case m.variable == nil || m.variable.TermID != term:
		return validation("INVALID_TERM_ID", "the agreement has no VariablePaymentTerm "+term, "termId")
	case m.ended:
		return validation("INACTIVE_AGREEMENT", "the agreement is not active", "agreementId")
	}
	return nil
}

// nameFault checks a payment request's name (5 to 64 characters) and
// description (1 to 2000).
func nameFault(name, desc string, hasDesc bool) *agreementFault {
	switch {
	case name == "":
		return validation("MISSING_NAME", "name is required", "name")
	case len(name) < 5 || len(name) > 64:
		return validation("INVALID_NAME", "name is 5 to 64 characters", "name")
	case hasDesc && (len(desc) < 1 || len(desc) > 2000):
		return validation("INVALID_DESCRIPTION", "description is 1 to 2000 characters", "description")
	}
	return nil
}

// remaining is what the variable-payment term still allows: its maximum
// less what was approved or is waiting for approval.
func (m *agreementMoney) remaining() units {
	max, _ := parseUnits(m.variable.MaxTotal)
	for _, p := range m.payments {
		if p.status == "APPROVED" || p.status == "PENDING_APPROVAL" || p.status == "VALIDATING" {
			max -= p.amount
		}
	}
	return max
}

func paymentView(agreementID string, p *fakePayment) map[string]any {
	out := map[string]any{"paymentRequestId": p.id, "agreementId": agreementID, "name": p.name, "chargeAmount": p.amount.String(),
		"currencyCode": p.currency, "status": p.status, "createdAt": p.created, "updatedAt": p.updated}
	if p.description != "" {
		out["description"] = p.description
	}
	if p.message != "" {
		out["statusMessage"] = p.message
	}
	if p.chargeID != "" {
		out["chargeId"] = p.chargeID
	}
	return out
}

func (f *AgreementService) findPayment(in map[string]any) (string, *agreementMoney, *fakePayment, *agreementFault) {
	agreementID, m, bad := f.moneyAgreement(in)
	if bad != nil {
		return "", nil, nil, bad
	}
	id := str(in, "paymentRequestId")
	switch {
	case id == "":
		return "", nil, nil, validation("MISSING_PAYMENT_REQUEST_ID", "paymentRequestId is required", "paymentRequestId")
	case !paymentIDs.MatchString(id):
		return "", nil, nil, validation("INVALID_PAYMENT_REQUEST_ID", "paymentRequestId is not valid", "paymentRequestId")
	}
	for _, p := range m.payments {
		if p.id == id {
			return agreementID, m, p, nil
		}
	}
	return "", nil, nil, notFound("PaymentRequest", id)
}

func (f *AgreementService) getPayment(in map[string]any) (map[string]any, *agreementFault) {
	agreementID, _, p, bad := f.findPayment(in)
	if bad != nil {
		return nil, bad
	}
	return paymentView(agreementID, p), nil
}

func (f *AgreementService) listPayments(in map[string]any) (map[string]any, *agreementFault) {
	id, m, bad := f.listedAgreement(in)
	if bad != nil {
		return nil, bad
	}
	items := []any{}
	for _, p := range m.payments {
		if s := str(in, "status"); s == "" || s == p.status {
			items = append(items, paymentView(id, p))
		}
	}
	return f.page(in, "items", items)
}

func (f *AgreementService) withdrawPayment(in map[string]any) (map[string]any, *agreementFault) {
	agreementID, _, p, bad := f.findPayment(in)
	if bad != nil {
		return nil, bad
	}
	if p.status != "PENDING_APPROVAL" {
		return nil, conflict("PaymentRequest", p.id, "the payment request is "+p.status+", not PENDING_APPROVAL")
	}
	p.status, p.updated = "CANCELLED", f.now()
	f.pending = append(f.pending, paymentNotice(agreementID, p, "Agreement Payment Request Cancelled"))
	return paymentView(agreementID, p), nil
}

// decodeMoneyInput reads a request's members, nested ones included:
// integers come back as int64, timestamps as time.Time.
func decodeMoneyInput(body []byte, cborWire bool) (map[string]any, error) {
	if !cborWire {
		return decodeInput(body, false)
	}
	if len(body) == 0 {
		return map[string]any{}, nil
	}
	v, err := cbor.Decode(body)
	if err != nil {
		return nil, err
	}
	m, ok := fromCBOR(v).(map[string]any)
	if !ok {
		return nil, fmt.Errorf("the body is not a CBOR map")
	}
	return m, nil
}

func fromCBOR(v cbor.Value) any {
	switch x := v.(type) {
	case cbor.Map:
		out := make(map[string]any, len(x))
		for k, y := range x {
			out[k] = fromCBOR(y)
		}
		return out
	case cbor.List:
		out := make([]any, len(x))
		for i, y := range x {
			out[i] = fromCBOR(y)
		}
		return out
	case cbor.String:
		return string(x)
	case cbor.Uint:
		return int64(x)
	case cbor.NegInt:
		return -int64(x) - 1
	case cbor.Bool:
		return bool(x)
	case cbor.Float64:
		return float64(x)
	case cbor.Float32:
		return float64(x)
	case *cbor.Tag:
		if x.ID == 1 {
			switch s := x.Value.(type) {
			case cbor.Float64:
				return time.Unix(int64(s), 0).UTC()
			case cbor.Uint:
				return time.Unix(int64(s), 0).UTC()
			}
		}
	}
	return nil
}

// Bodies are the SQS bodies AWS puts on the seller's queue for the
// notice (Proposer variant): the request's event, and for an approved
// cancellation Purchase Agreement Ended (status CANCELLED), which ends
// the agreement.
func (n MoneyNotice) Bodies(id Identity) []string {
	out := []string{AgreementNotice(n.DetailType, id, n.AgreementID, n.Detail, n.At)}
	if n.Ended {
		out = append(out, AgreementEvent{DetailType: "Purchase Agreement Ended", Identity: id, AgreementID: n.AgreementID, Status: "CANCELLED"}.Body(n.At))
	}
	return out
}

// BuyerRequest is a seller's request waiting for the buyer, as the
// sandbox's buyer page shows it.
type BuyerRequest struct {
	AgreementID, ID, Kind string // Kind: cancellation, payment
	Reason, Amount, Name  string
	Created, RespondBy    time.Time // RespondBy: a cancellation's 7 days (zero: none)
}

// Waiting lists the cancellation and payment requests waiting for buyers.
func (f *AgreementService) Waiting() []BuyerRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []BuyerRequest
	for id, m := range f.moneyOf {
		for _, c := range m.cancellations {
			if c.status == "PENDING_APPROVAL" {
				out = append(out, BuyerRequest{AgreementID: id, ID: c.id, Kind: "cancellation", Reason: c.reason, Created: c.created, RespondBy: c.created.Add(CancellationWindow)})
			}
		}
		for _, p := range m.payments {
			if p.status == "PENDING_APPROVAL" {
				out = append(out, BuyerRequest{AgreementID: id, ID: p.id, Kind: "payment", Amount: p.amount.String() + " " + p.currency, Name: p.name, Created: p.created})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].Created.Before(out[j].Created) || (out[i].Created.Equal(out[j].Created) && out[i].ID < out[j].ID)
	})
	return out
}

// HasInvoices reports whether the fake holds invoices for an agreement.
func (f *AgreementService) HasInvoices(agreementID string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	m := f.moneyOf[agreementID]
	return m != nil && len(m.invoices) > 0
}
