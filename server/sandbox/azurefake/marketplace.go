package azurefake

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// APIVersion is the only api-version the marketplace APIs accept (reference preamble).
const APIVersion = "2018-08-31"

// PurchaseTokenLifetime is how long a purchase token resolves (§4.1).
const PurchaseTokenLifetime = 24 * time.Hour

// Subscription statuses (§3).
const (
	StatusPendingFulfillmentStart = "PendingFulfillmentStart"
	StatusSubscribed              = "Subscribed"
	StatusSuspended               = "Suspended"
	StatusUnsubscribed            = "Unsubscribed"
)

// Operation statuses and sources (§5.1, §6.1).
const (
	OpInProgress  = "InProgress"
	OpSucceeded   = "Succeeded"
	OpFailed      = "Failed"
	SourcePartner = "Partner"
	SourceAzure   = "Azure"
)

// Options configures a Marketplace.
type Options struct {
	Now          func() time.Time // nil: time.Now
	Base         string           // absolute URL where the handler is mounted (for Operation-Location and @nextLink)
	Entra        *Entra           // authenticates calls (Authorization: Bearer from the client-credentials flow); 403 when missing/invalid. nil: no authentication
	PublisherID  string
	Offers       []Offer
	PageSize     int           // List page size (default 100)
	AutoAccept   time.Duration // ChangePlan/ChangeQuantity webhook operations auto-accept after this (default 10 s)
	PartnerDelay time.Duration // how long a publisher PATCH/DELETE operation stays InProgress before Succeeded (default 2 s)
	// Webhook delivers one webhook call (JSON body, Authorization header
	// already set); returns the HTTP status our server answered, or an
	// error. nil: no webhooks.
	Webhook func(ctx context.Context, body []byte, authorization string) (int, error)
	// The publisher's Entra app (Partner Center technical configuration):
	// the audience and tenant of webhook tokens. When set, API calls must
	// also carry a token of this app and tenant (403 otherwise, §1).
	WebhookAudience, WebhookTenant string
	// SubscribeWebhook: after an activation, send a Succeeded "Subscribe"
	// webhook (§6.1: listed in current revisions of the webhook page as
	// "acknowledge, no action").
	SubscribeWebhook bool
}

// Offer is a SaaS offer with its plans.
type Offer struct {
	OfferID, Name string
	Plans         []Plan
}

// Plan is one plan of an offer.
type Plan struct {
	PlanID, DisplayName      string
	PerSeat                  bool
	MinQuantity, MaxQuantity int // per-seat plans; defaults 1 and 10000
	Dimensions               []string
	Private                  bool
	Included                 map[string]float64 // dimension → units included in the base fee (meteredQuantityIncluded)
	TermUnit                 string             // P1M (default), P1Y, P2Y, P3Y, P4Y, P5Y, PAY, or any value Microsoft adds
}

// Party is a purchaser or beneficiary.
type Party struct{ EmailID, ObjectID, TenantID string }

// Subscription is a snapshot of a SaaS subscription (§3).
type Subscription struct {
	ID, PublisherID, OfferID, PlanID, Name string
	Status                                 string
	Quantity                               int // 0 on plans that are not per-seat
	Purchaser, Beneficiary                 Party
	TermUnit                               string
	StartDate, EndDate                     time.Time // dates (UTC midnight); zero until activated
	AutoRenew, IsTest, IsFreeTrial         bool
	AllowedCustomerOperations              []string
	SandboxType, SessionMode               string
	Created, LastModified                  time.Time
}

// Operation is a snapshot of an operation (§5.1).
type Operation struct {
	ID, ActivityID, SubscriptionID, OfferID, PublisherID string
	PlanID                                               string // the new plan for ChangePlan
	Quantity                                             int    // the new quantity for ChangeQuantity
	Action, Status                                       string
	Source                                               string // Partner or Azure
	TimeStamp                                            time.Time
	ErrorStatusCode, ErrorMessage                        string
}

// WebhookCall records one webhook delivery.
type WebhookCall struct {
	Body          []byte
	Authorization string
	Status        int // 0 when Err is set
	Err           error
}

type subscription struct {
	Subscription
	ops []*operation
}

type operation struct {
	Operation
	due     time.Time // when an InProgress operation completes by itself
	failMsg *string   // armed by FailNextOperation
	payload []byte    // the webhook body sent for it, for RedeliverWebhook
}

type purchase struct {
	subID  string
	issued time.Time
}

type injected struct {
	status int
	body   string
}

// Marketplace fakes the SaaS Fulfillment v2, Operations and Metering APIs
// (http.Handler, paths relative to Options.Base). Time-driven work (operation
// completion, auto-accept) is evaluated lazily on every request and method
// call, and by Tick. Safe for concurrent use.
type Marketplace struct {
	mu      sync.Mutex
	o       Options
	now     func() time.Time
	offers  map[string]*Offer
	subs    map[string]*subscription
	order   []*subscription
	tokens  map[string]purchase
	fail    map[string][]injected
	failOps []string
	outbox  [][]byte // webhooks due, sent outside the lock

	usage      []*UsageEvent
	usageByKey map[string]*UsageEvent
	flight     inFlight // usage events in calls not yet answered (SetLatency, InFlightOverlaps)

	calls []WebhookCall

	outages []outage // FailBetween
}

// NewMarketplace returns an empty marketplace with the given offers.
func NewMarketplace(o Options) *Marketplace {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.PageSize <= 0 {
		o.PageSize = 100
	}
	if o.AutoAccept <= 0 {
		o.AutoAccept = 10 * time.Second
	}
	if o.PartnerDelay <= 0 {
		o.PartnerDelay = 2 * time.Second
	}
	if o.PublisherID == "" {
		o.PublisherID = "marketgate-sandbox"
	}
	o.Base = strings.TrimRight(o.Base, "/")
	m := &Marketplace{o: o, now: o.Now, offers: map[string]*Offer{}, subs: map[string]*subscription{},
		tokens: map[string]purchase{}, fail: map[string][]injected{}, usageByKey: map[string]*UsageEvent{}}
	for _, of := range o.Offers {
		of := of
		of.Plans = append([]Plan(nil), of.Plans...)
		for i := range of.Plans {
			p := &of.Plans[i]
			if p.PerSeat && p.MinQuantity <= 0 {
				p.MinQuantity = 1
			}
			if p.PerSeat && p.MaxQuantity <= 0 {
				p.MaxQuantity = 10000
			}
			if p.TermUnit == "" {
				p.TermUnit = "P1M"
			}
			if p.DisplayName == "" {
				p.DisplayName = p.PlanID
			}
		}
		m.offers[of.OfferID] = &of
	}
	return m
}

func (m *Marketplace) plan(offerID, planID string) (*Plan, bool) {
	of, ok := m.offers[offerID]
	if !ok {
		return nil, false
	}
	for i := range of.Plans {
		if of.Plans[i].PlanID == planID {
			return &of.Plans[i], true
		}
	}
	return nil, false
}

// FailNext answers status and body to the next call of a route: "resolve",
// "activate", "get", "list", "plans", "patch", "delete", "operations",
// "operation", "patchOperation", "usageEvent", "batchUsageEvent", "usageEvents".
func (m *Marketplace) FailNext(route string, status int, body string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.fail[route] = append(m.fail[route], injected{status, body})
}

// FailNextOperation makes the next publisher PATCH or DELETE operation end
// Failed with this errorMessage instead of Succeeded.
func (m *Marketplace) FailNextOperation(message string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.failOps = append(m.failOps, message)
}

// Webhooks returns every webhook delivery so far, oldest first.
func (m *Marketplace) Webhooks() []WebhookCall {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]WebhookCall(nil), m.calls...)
}

// Tick completes the operations that are due and delivers their webhooks.
func (m *Marketplace) Tick() { m.sync() }

// Run calls Tick every interval until ctx ends (for a sandbox on a real clock).
func (m *Marketplace) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			m.Tick()
		}
	}
}

// sync advances time-driven work, then delivers queued webhooks without the lock.
func (m *Marketplace) sync() {
	m.mu.Lock()
	m.advanceLocked()
	out := m.outbox
	m.outbox = nil
	m.mu.Unlock()
	for _, b := range out {
		m.deliver(b)
	}
}

// deliver sends one webhook through Options.Webhook with a fresh Entra token.
func (m *Marketplace) deliver(body []byte) (int, error) {
	if m.o.Webhook == nil {
		return 0, errors.New("no webhook configured")
	}
	auth := ""
	if m.o.Entra != nil {
		auth = "Bearer " + m.o.Entra.WebhookToken(m.o.WebhookTenant, m.o.WebhookAudience)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	status, err := m.o.Webhook(ctx, body, auth)
	m.mu.Lock()
	m.calls = append(m.calls, WebhookCall{Body: body, Authorization: auth, Status: status, Err: err})
	m.mu.Unlock()
	return status, err
}

// HTTPWebhook posts webhook calls to url as Microsoft does (POST, JSON,
// Authorization: Bearer); a ready-made Options.Webhook.
func HTTPWebhook(client *http.Client, url string) func(ctx context.Context, body []byte, authorization string) (int, error) {
	if client == nil {
		client = http.DefaultClient
	}
	return func(ctx context.Context, body []byte, authorization string) (int, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(string(body)))
		if err != nil {
			return 0, err
		}
		req.Header.Set("Content-Type", "application/json")
		if authorization != "" {
			req.Header.Set("Authorization", authorization)
		}
		resp, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		return resp.StatusCode, nil
	}
}

// advanceLocked completes due InProgress operations: publisher operations
// after PartnerDelay (§4.6, §4.7), customer changes auto-accepted after
// AutoAccept (§6.1).
func (m *Marketplace) advanceLocked() {
	now := m.now()
	for _, s := range m.order {
		for _, op := range s.ops {
			if op.Status != OpInProgress || op.due.IsZero() || now.Before(op.due) {
				continue
			}
			m.finishLocked(s, op, now)
		}
	}
}

// finishLocked ends an InProgress operation by applying it (or failing it
// when armed by FailNextOperation). Publisher operations then get their
// webhook (source Partner, §6.1).
func (m *Marketplace) finishLocked(s *subscription, op *operation, now time.Time) {
	if op.failMsg != nil {
		op.Status, op.ErrorStatusCode, op.ErrorMessage = OpFailed, "400", *op.failMsg
		return
	}
	if err := m.applyLocked(s, op, now); err != nil {
		op.Status, op.ErrorStatusCode, op.ErrorMessage = OpFailed, "400", err.Error()
		return
	}
	op.Status = OpSucceeded
	if op.Source == SourcePartner && m.o.Webhook != nil {
		op.payload = m.payloadLocked(s, op)
		m.outbox = append(m.outbox, op.payload)
	}
}

// applyLocked makes an operation's change to the subscription.
func (m *Marketplace) applyLocked(s *subscription, op *operation, now time.Time) error {
	switch op.Action {
	case "ChangePlan", "ChangeQuantity":
		if s.Status != StatusSubscribed {
			return fmt.Errorf("the subscription is %s, not Subscribed", s.Status)
		}
		if _, ok := m.plan(s.OfferID, op.PlanID); !ok {
			return fmt.Errorf("plan %s no longer exists", op.PlanID)
		}
		s.PlanID, s.Quantity = op.PlanID, op.Quantity
	case "Unsubscribe":
		if s.Status == StatusUnsubscribed {
			return errors.New("the subscription is already Unsubscribed")
		}
		s.Status = StatusUnsubscribed
	default:
		return fmt.Errorf("cannot apply %s", op.Action)
	}
	s.LastModified = now
	return nil
}

func (m *Marketplace) newOpLocked(s *subscription, action, source, status string, now time.Time) *operation {
	op := &operation{Operation: Operation{ID: newGUID(), ActivityID: newGUID(), SubscriptionID: s.ID, OfferID: s.OfferID,
		PublisherID: s.PublisherID, PlanID: s.PlanID, Quantity: s.Quantity, Action: action, Status: status, Source: source,
		TimeStamp: now}}
	s.ops = append(s.ops, op)
	return op
}

func (s *subscription) pending() *operation {
	for _, op := range s.ops {
		if op.Status == OpInProgress {
			return op
		}
	}
	return nil
}

// Purchase creates a PendingFulfillmentStart subscription, as a buyer's
// purchase in the Azure portal does, and returns its purchase token (valid
// 24 h, opaque, containing '+' and '/').
func (m *Marketplace) Purchase(offerID, planID string, quantity int, purchaser, beneficiary Party, name string) (subID, token string, err error) {
	m.sync()
	m.mu.Lock()
	defer m.mu.Unlock()
	p, ok := m.plan(offerID, planID)
	if !ok {
		return "", "", fmt.Errorf("azurefake: no plan %q in offer %q", planID, offerID)
	}
	if !p.PerSeat {
		quantity = 0
	} else if quantity == 0 {
		quantity = p.MinQuantity
	} else if quantity < p.MinQuantity || quantity > p.MaxQuantity {
		return "", "", fmt.Errorf("azurefake: quantity %d outside %d–%d", quantity, p.MinQuantity, p.MaxQuantity)
	}
	if beneficiary == (Party{}) {
		beneficiary = purchaser
	}
	if name == "" {
		name = "SaaS subscription"
	}
	now := m.now()
	s := &subscription{Subscription: Subscription{ID: newGUID(), PublisherID: m.o.PublisherID, OfferID: offerID, PlanID: planID,
		Name: name, Status: StatusPendingFulfillmentStart, Quantity: quantity, Purchaser: purchaser, Beneficiary: beneficiary,
		TermUnit: p.TermUnit, AutoRenew: true, AllowedCustomerOperations: []string{"Read", "Update", "Delete"},
		SandboxType: "None", SessionMode: "None", Created: now, LastModified: now}}
	m.subs[s.ID] = s
	m.order = append(m.order, s)
	return s.ID, m.tokenLocked(s.ID, now), nil
}

// PurchaseToken issues a new purchase token for an existing subscription,
// as "Configure account" / "Manage account" in the portal does.
func (m *Marketplace) PurchaseToken(subID string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.subs[subID]; !ok {
		return "", errors.New("azurefake: unknown subscription")
	}
	return m.tokenLocked(subID, m.now()), nil
}

func (m *Marketplace) tokenLocked(subID string, now time.Time) string {
	b := make([]byte, 96)
	_, _ = rand.Read(b)
	t := base64.StdEncoding.EncodeToString(b)
	t = t[:20] + "+" + t[20:60] + "/" + t[60:] // opaque; '+' and '/' make URL encoding matter (§4.1)
	m.tokens[t] = purchase{subID: subID, issued: now}
	return t
}

func (s *subscription) snapshot() Subscription {
	c := s.Subscription
	c.AllowedCustomerOperations = append([]string(nil), s.AllowedCustomerOperations...)
	return c
}

// Get returns a snapshot of a subscription.
func (m *Marketplace) Get(subID string) (Subscription, bool) {
	m.sync()
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.subs[subID]
	if !ok {
		return Subscription{}, false
	}
	return s.snapshot(), true
}

// Operation returns a snapshot of an operation.
func (m *Marketplace) Operation(subID, opID string) (Operation, bool) {
	m.sync()
	m.mu.Lock()
	defer m.mu.Unlock()
	if op := m.opLocked(subID, opID); op != nil {
		return op.Operation, true
	}
	return Operation{}, false
}

// Operations returns every operation of a subscription, oldest first.
func (m *Marketplace) Operations(subID string) []Operation {
	m.sync()
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Operation
	if s, ok := m.subs[subID]; ok {
		for _, op := range s.ops {
			out = append(out, op.Operation)
		}
	}
	return out
}

func (m *Marketplace) opLocked(subID, opID string) *operation {
	s, ok := m.subs[subID]
	if !ok {
		return nil
	}
	for _, op := range s.ops {
		if op.ID == opID {
			return op
		}
	}
	return nil
}

// SetAllowedCustomerOperations replaces allowedCustomerOperations (e.g.
// ["Read"] for a CSP purchase, §3).
func (m *Marketplace) SetAllowedCustomerOperations(subID string, ops ...string) error {
	return m.silently(subID, func(s *subscription) error {
		s.AllowedCustomerOperations = append([]string(nil), ops...)
		return nil
	})
}

// SetStatusSilently changes the status without an operation or webhook
// (a lost webhook, for reconciliation tests).
func (m *Marketplace) SetStatusSilently(subID, status string) error {
	return m.silently(subID, func(s *subscription) error {
		if s.StartDate.IsZero() && (status == StatusSubscribed || status == StatusSuspended) {
			s.StartDate = dateOf(m.now())
			s.EndDate = termEnd(s.StartDate, s.TermUnit)
		}
		s.Status = status
		return nil
	})
}

// SetPlanSilently changes the plan without an operation or webhook.
func (m *Marketplace) SetPlanSilently(subID, planID string) error {
	return m.silently(subID, func(s *subscription) error {
		p, ok := m.plan(s.OfferID, planID)
		if !ok {
			return fmt.Errorf("azurefake: no plan %q", planID)
		}
		s.PlanID = planID
		if !p.PerSeat {
			s.Quantity = 0
		} else if s.Quantity == 0 {
			s.Quantity = p.MinQuantity
		}
		return nil
	})
}

// SetQuantitySilently changes the quantity without an operation or webhook.
func (m *Marketplace) SetQuantitySilently(subID string, q int) error {
	return m.silently(subID, func(s *subscription) error {
		s.Quantity = q
		return nil
	})
}

func (m *Marketplace) silently(subID string, f func(*subscription) error) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.subs[subID]
	if !ok {
		return errors.New("azurefake: unknown subscription")
	}
	if err := f(s); err != nil {
		return err
	}
	s.LastModified = m.now()
	return nil
}

// ---- term dates ----

func dateOf(t time.Time) time.Time {
	y, mo, d := t.UTC().Date()
	return time.Date(y, mo, d, 0, 0, 0, 0, time.UTC)
}

func termMonths(unit string) int {
	switch unit {
	case "P1Y":
		return 12
	case "P2Y":
		return 24
	case "P3Y":
		return 36
	case "P4Y":
		return 48
	case "P5Y":
		return 60
	}
	return 1
}

// termEnd is the last valid day of a term starting on start (§3: endDate is
// the last valid day): start + term − 1 day, the day clamped to the month.
func termEnd(start time.Time, unit string) time.Time {
	y, mo, d := start.Date()
	total := int(mo) - 1 + termMonths(unit)
	ty, tm := y+total/12, time.Month(total%12+1)
	last := time.Date(ty, tm+1, 0, 0, 0, 0, 0, time.UTC).Day()
	if d > last {
		d = last
	}
	return time.Date(ty, tm, d, 0, 0, 0, 0, time.UTC).AddDate(0, 0, -1)
}

// ---- wire shapes (camelCase, §3, §5.1, §6.2) ----

const (
	ts7Layout  = "2006-01-02T15:04:05.0000000Z"
	dateLayout = "2006-01-02"
)

func ts7(t time.Time) string { return t.UTC().Format(ts7Layout) }

type partyWire struct {
	EmailID  string  `json:"emailId"`
	ObjectID string  `json:"objectId"`
	TenantID string  `json:"tenantId"`
	Puid     *string `json:"puid"`
}

type termWire struct {
	TermUnit       string  `json:"termUnit"`
	StartDate      *string `json:"startDate"`
	EndDate        *string `json:"endDate"`
	ChargeDuration *string `json:"chargeDuration"`
}

type subscriptionWire struct {
	ID                        string    `json:"id"`
	PublisherID               string    `json:"publisherId"`
	OfferID                   string    `json:"offerId"`
	Name                      string    `json:"name"`
	SaasSubscriptionStatus    string    `json:"saasSubscriptionStatus"`
	Beneficiary               partyWire `json:"beneficiary"`
	Purchaser                 partyWire `json:"purchaser"`
	PlanID                    string    `json:"planId"`
	Quantity                  *int      `json:"quantity,omitempty"`
	Term                      termWire  `json:"term"`
	AutoRenew                 bool      `json:"autoRenew"`
	IsTest                    bool      `json:"isTest"`
	IsFreeTrial               bool      `json:"isFreeTrial"`
	AllowedCustomerOperations []string  `json:"allowedCustomerOperations"`
	SandboxType               string    `json:"sandboxType"`
	SessionMode               string    `json:"sessionMode"`
	Created                   string    `json:"created"`
	LastModified              string    `json:"lastModified"`
}

func party(p Party) partyWire {
	return partyWire{EmailID: p.EmailID, ObjectID: p.ObjectID, TenantID: p.TenantID}
}

// quantityOf renders a quantity only on per-seat plans (§3).
func (m *Marketplace) quantityOf(offerID, planID string, q int) *int {
	if p, ok := m.plan(offerID, planID); ok && p.PerSeat {
		return &q
	}
	return nil
}

func (m *Marketplace) wireLocked(s *subscription) subscriptionWire {
	t := termWire{TermUnit: s.TermUnit}
	if !s.StartDate.IsZero() { // dates only once activated (§3)
		sd, ed := s.StartDate.Format(dateLayout), s.EndDate.Format(dateLayout)
		t.StartDate, t.EndDate = &sd, &ed
	}
	ops := s.AllowedCustomerOperations
	if ops == nil {
		ops = []string{}
	}
	return subscriptionWire{ID: s.ID, PublisherID: s.PublisherID, OfferID: s.OfferID, Name: s.Name,
		SaasSubscriptionStatus: s.Status, Beneficiary: party(s.Beneficiary), Purchaser: party(s.Purchaser), PlanID: s.PlanID,
		Quantity: m.quantityOf(s.OfferID, s.PlanID, s.Quantity), Term: t, AutoRenew: s.AutoRenew, IsTest: s.IsTest,
		IsFreeTrial: s.IsFreeTrial, AllowedCustomerOperations: ops, SandboxType: s.SandboxType, SessionMode: s.SessionMode,
		Created: ts7(s.Created), LastModified: ts7(s.LastModified)}
}

type operationWire struct {
	ID                     string `json:"id"`
	ActivityID             string `json:"activityId"`
	SubscriptionID         string `json:"subscriptionId"`
	OfferID                string `json:"offerId"`
	PublisherID            string `json:"publisherId"`
	PlanID                 string `json:"planId"`
	Quantity               *int   `json:"quantity,omitempty"`
	Action                 string `json:"action"`
	TimeStamp              string `json:"timeStamp"`
	Status                 string `json:"status"`
	ErrorStatusCode        string `json:"errorStatusCode"`
	ErrorMessage           string `json:"errorMessage"`
	OperationRequestSource string `json:"operationRequestSource"`
}

func (m *Marketplace) opWireLocked(op *operation) operationWire {
	return operationWire{ID: op.ID, ActivityID: op.ActivityID, SubscriptionID: op.SubscriptionID, OfferID: op.OfferID,
		PublisherID: op.PublisherID, PlanID: op.PlanID, Quantity: m.quantityOf(op.OfferID, op.PlanID, op.Quantity),
		Action: op.Action, TimeStamp: ts7(op.TimeStamp), Status: op.Status, ErrorStatusCode: op.ErrorStatusCode,
		ErrorMessage: op.ErrorMessage, OperationRequestSource: op.Source}
}

// payloadLocked is the webhook body (§6.2): the operation's (new) planId
// and quantity at top level, the subscription as it is now, purchaseToken null.
func (m *Marketplace) payloadLocked(s *subscription, op *operation) []byte {
	b, _ := json.Marshal(struct {
		ID                     string           `json:"id"`
		ActivityID             string           `json:"activityId"`
		PublisherID            string           `json:"publisherId"`
		OfferID                string           `json:"offerId"`
		PlanID                 string           `json:"planId"`
		Quantity               *int             `json:"quantity,omitempty"`
		SubscriptionID         string           `json:"subscriptionId"`
		TimeStamp              string           `json:"timeStamp"`
		Action                 string           `json:"action"`
		Status                 string           `json:"status"`
		OperationRequestSource string           `json:"operationRequestSource"`
		Subscription           subscriptionWire `json:"subscription"`
		PurchaseToken          *string          `json:"purchaseToken"`
	}{op.ID, op.ActivityID, op.PublisherID, op.OfferID, op.PlanID, m.quantityOf(op.OfferID, op.PlanID, op.Quantity),
		op.SubscriptionID, ts7(m.now()), op.Action, op.Status, op.Source, m.wireLocked(s), nil})
	return b
}

// ---- lenient JSON input ----

// flexNum reads a number, a numeric string, null or "" (§3: parse leniently).
type flexNum struct {
	set, bad bool
	v        float64
}

func (f *flexNum) UnmarshalJSON(b []byte) error {
	s := strings.TrimSpace(string(b))
	if s == "null" {
		return nil
	}
	if strings.HasPrefix(s, `"`) {
		var str string
		if err := json.Unmarshal(b, &str); err != nil {
			f.bad = true
			return nil
		}
		if s = strings.TrimSpace(str); s == "" {
			return nil
		}
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		f.bad = true
		return nil
	}
	f.set, f.v = true, v
	return nil
}

func (f flexNum) int() (int, bool) {
	if !f.set || f.bad || f.v != float64(int(f.v)) {
		return 0, false
	}
	return int(f.v), true
}

// ---- HTTP ----

type handler func(w http.ResponseWriter, r *http.Request)

// route maps a path relative to Base to a FailNext route name and handler.
// A nil handler with a name means a known path with the wrong method.
func (m *Marketplace) route(r *http.Request) (string, handler) {
	p := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	method := r.Method
	switch {
	case len(p) == 1:
		return m.meteringRoute(method, p[0])
	case p[0] != "saas" || p[1] != "subscriptions":
		return "", nil
	case len(p) == 2:
		return pickMethod(method, http.MethodGet, "list", m.list)
	case len(p) == 3 && p[2] == "resolve":
		return pickMethod(method, http.MethodPost, "resolve", m.resolve)
	case len(p) == 3:
		return m.subscriptionRoute(method, p[2])
	}
	return m.subscriptionSubRoute(method, p[2], p[3:])
}

// pickMethod answers the route when the request's method is the one it
// takes, else the wrong-method route.
func pickMethod(method, want, name string, h handler) (string, handler) {
	if method != want {
		return "method", nil
	}
	return name, h
}

// meteringRoute routes the metering APIs (one path segment).
func (m *Marketplace) meteringRoute(method, path string) (string, handler) {
	switch path {
	case "usageEvent":
		return pickMethod(method, http.MethodPost, "usageEvent", m.usageEvent)
	case "batchUsageEvent":
		return pickMethod(method, http.MethodPost, "batchUsageEvent", m.batchUsageEvent)
	case "usageEvents":
		return pickMethod(method, http.MethodGet, "usageEvents", m.usageEvents)
	}
	return "", nil
}

// subscriptionRoute routes saas/subscriptions/{id}.
func (m *Marketplace) subscriptionRoute(method, id string) (string, handler) {
	switch method {
	case http.MethodGet:
		return "get", func(w http.ResponseWriter, r *http.Request) { m.get(w, id) }
	case http.MethodPatch:
		return "patch", func(w http.ResponseWriter, r *http.Request) { m.patch(w, r, id) }
	case http.MethodDelete:
		return "delete", func(w http.ResponseWriter, r *http.Request) { m.delete(w, id) }
	}
	return "method", nil
}

// subscriptionSubRoute routes saas/subscriptions/{id}/<rest>.
func (m *Marketplace) subscriptionSubRoute(method, id string, rest []string) (string, handler) {
	switch {
	case len(rest) == 1 && rest[0] == "activate":
		return pickMethod(method, http.MethodPost, "activate", func(w http.ResponseWriter, r *http.Request) { m.activate(w, r, id) })
	case len(rest) == 1 && rest[0] == "listAvailablePlans":
		return pickMethod(method, http.MethodGet, "plans", func(w http.ResponseWriter, r *http.Request) { m.plans(w, r, id) })
	case len(rest) == 1 && rest[0] == "operations":
		return pickMethod(method, http.MethodGet, "operations", func(w http.ResponseWriter, r *http.Request) { m.listOperations(w, id) })
	case len(rest) == 2 && rest[0] == "operations":
		opID := rest[1]
		switch method {
		case http.MethodGet:
			return "operation", func(w http.ResponseWriter, r *http.Request) { m.getOperation(w, id, opID) }
		case http.MethodPatch:
			return "patchOperation", func(w http.ResponseWriter, r *http.Request) { m.patchOperation(w, r, id, opID) }
		}
		return "method", nil
	}
	return "", nil
}

// ServeHTTP serves the marketplace APIs. Every call needs
// api-version=2018-08-31 (400) and a valid bearer token (403).
func (m *Marketplace) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	for _, h := range []string{"x-ms-requestid", "x-ms-correlationid"} { // echoed, or created (§2)
		v := r.Header.Get(h)
		if v == "" {
			v = newGUID()
		}
		w.Header().Set(h, v)
	}
	m.sync()
	name, h := m.route(r)
	switch {
	case name == "":
		apiError(w, http.StatusNotFound, "NotFound", "No route matches "+r.URL.Path)
		return
	case h == nil:
		apiError(w, http.StatusMethodNotAllowed, "MethodNotAllowed", "The method "+r.Method+" is not allowed here")
		return
	case r.URL.Query().Get("api-version") != APIVersion:
		apiError(w, http.StatusBadRequest, "BadRequest", "The api-version query parameter is missing or invalid; the supported version is "+APIVersion)
		return
	}
	if err := m.authenticate(r); err != nil {
		apiError(w, http.StatusForbidden, "Forbidden", "The client is not authorized: "+err.Error())
		return
	}
	m.mu.Lock()
	var inj *injected
	if q := m.fail[name]; len(q) > 0 {
		inj, m.fail[name] = &q[0], q[1:]
	}
	if inj == nil {
		inj = m.outageLocked(name)
	}
	m.mu.Unlock()
	if inj != nil {
		if strings.HasPrefix(strings.TrimSpace(inj.body), "{") || strings.HasPrefix(strings.TrimSpace(inj.body), "[") {
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
		}
		w.WriteHeader(inj.status)
		_, _ = io.WriteString(w, inj.body)
		return
	}
	h(w, r)
}

// authenticate verifies the bearer token; when the publisher's app is
// configured, a token of another app or tenant is refused (§1: 403).
func (m *Marketplace) authenticate(r *http.Request) error {
	if m.o.Entra == nil {
		return nil
	}
	h := r.Header.Get("Authorization")
	if len(h) < 7 || !strings.EqualFold(h[:7], "Bearer ") {
		return errors.New("no bearer token")
	}
	tenant, app, err := m.o.Entra.VerifyAccessToken(strings.TrimSpace(h[7:]))
	if err != nil {
		return err
	}
	if want := strings.TrimPrefix(m.o.WebhookAudience, "api://"); want != "" && !strings.EqualFold(app, want) {
		return errors.New("the token's app id is not the offer's app id")
	}
	if m.o.WebhookTenant != "" && !strings.EqualFold(tenant, m.o.WebhookTenant) {
		return errors.New("the token's tenant is not the publisher's tenant")
	}
	return nil
}

// apiError writes the spec's error body {"error":{"code","message"}}.
func apiError(w http.ResponseWriter, status int, code, message string) {
	writeJSONStatus(w, status, map[string]any{"error": map[string]string{"code": code, "message": message}})
}

func decodeBody(r *http.Request, v any) error {
	b, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return err
	}
	if strings.TrimSpace(string(b)) == "" {
		return nil
	}
	return json.Unmarshal(b, v)
}

// resolve: POST /saas/subscriptions/resolve (§4.1). Any status resolves;
// a missing, unknown or expired token is 400.
func (m *Marketplace) resolve(w http.ResponseWriter, r *http.Request) {
	tok := r.Header.Get("x-ms-marketplace-token")
	m.mu.Lock()
	defer m.mu.Unlock()
	p, ok := m.tokens[tok]
	switch {
	case tok == "":
		apiError(w, http.StatusBadRequest, "BadRequest", "The x-ms-marketplace-token header is required")
		return
	case !ok:
		apiError(w, http.StatusBadRequest, "BadRequest", "The marketplace token is invalid")
		return
	case m.now().Sub(p.issued) > PurchaseTokenLifetime:
		apiError(w, http.StatusBadRequest, "BadRequest", "The marketplace token has expired")
		return
	}
	s := m.subs[p.subID]
	writeJSONStatus(w, http.StatusOK, struct {
		ID               string           `json:"id"`
		SubscriptionName string           `json:"subscriptionName"`
		OfferID          string           `json:"offerId"`
		PlanID           string           `json:"planId"`
		Quantity         *int             `json:"quantity,omitempty"`
		Subscription     subscriptionWire `json:"subscription"`
	}{s.ID, s.Name, s.OfferID, s.PlanID, m.quantityOf(s.OfferID, s.PlanID, s.Quantity), m.wireLocked(s)})
}

// activateRequest is the body of an activate call.
type activateRequest struct {
	PlanID   string  `json:"planId"`
	Quantity flexNum `json:"quantity"`
}

// activate: POST /saas/subscriptions/{id}/activate (§4.2).
func (m *Marketplace) activate(w http.ResponseWriter, r *http.Request, id string) {
	var in activateRequest
	bodyErr := decodeBody(r, &in)
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.subs[id]
	if !ok || s.Status == StatusUnsubscribed {
		apiError(w, http.StatusNotFound, "NotFound", "The subscription was not found or is Unsubscribed")
		return
	}
	if msg := m.activateRefusalLocked(s, in, bodyErr); msg != "" {
		apiError(w, http.StatusBadRequest, "BadRequest", msg)
		return
	}
	now := m.now()
	s.Status = StatusSubscribed
	s.StartDate = dateOf(now)
	s.EndDate = termEnd(s.StartDate, s.TermUnit)
	s.LastModified = now
	if m.o.SubscribeWebhook && m.o.Webhook != nil {
		op := m.newOpLocked(s, "Subscribe", SourceAzure, OpSucceeded, now)
		op.payload = m.payloadLocked(s, op)
		m.outbox = append(m.outbox, op.payload) // delivered with the next call or Tick
	}
	w.WriteHeader(http.StatusOK)
}

// activateRefusalLocked is the message of the 400 an activate call gets,
// or "" when the subscription may be activated as asked.
func (m *Marketplace) activateRefusalLocked(s *subscription, in activateRequest, bodyErr error) string {
	switch {
	case bodyErr != nil:
		return "The request body is not valid JSON"
	case s.Status == StatusSubscribed || s.Status == StatusSuspended:
		return "The subscription is already " + s.Status
	case s.Status != StatusPendingFulfillmentStart:
		return "The subscription cannot be activated in status " + s.Status
	case in.PlanID == "":
		return "planId is required"
	case in.PlanID != s.PlanID:
		return "The planId does not match the purchased plan " + s.PlanID
	}
	// §4.2: "omit quantity on plans that are not per-seat"; on a per-seat
	// plan it must be the purchased one (400: plan or quantity mismatch).
	p, _ := m.plan(s.OfferID, s.PlanID)
	sent := in.Quantity.set || in.Quantity.bad
	q, qok := in.Quantity.int()
	switch {
	case sent && (p == nil || !p.PerSeat):
		return "The plan " + s.PlanID + " is not priced per seat: omit the quantity"
	case sent && (!qok || q != s.Quantity):
		return "The quantity does not match the purchased quantity " + strconv.Itoa(s.Quantity)
	}
	return ""
}

type pageToken struct {
	O int `json:"o"`
}

// list: GET /saas/subscriptions, every status, paged with @nextLink (§4.3).
func (m *Marketplace) list(w http.ResponseWriter, r *http.Request) {
	offset := 0
	if ct := r.URL.Query().Get("continuationToken"); ct != "" {
		var t []pageToken
		if err := json.Unmarshal([]byte(ct), &t); err != nil || len(t) != 1 || t[0].O < 0 {
			apiError(w, http.StatusBadRequest, "BadRequest", "The continuationToken is invalid")
			return
		}
		offset = t[0].O
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	out := []subscriptionWire{}
	end := min(offset+m.o.PageSize, len(m.order))
	for i := offset; i < end; i++ {
		out = append(out, m.wireLocked(m.order[i]))
	}
	body := map[string]any{"subscriptions": out}
	if end < len(m.order) {
		t, _ := json.Marshal([]pageToken{{O: end}})
		body["@nextLink"] = m.o.Base + "/saas/subscriptions?continuationToken=" + url.QueryEscape(string(t)) + "&api-version=" + APIVersion
	}
	writeJSONStatus(w, http.StatusOK, body)
}

// get: GET /saas/subscriptions/{id} (§4.4).
func (m *Marketplace) get(w http.ResponseWriter, id string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.subs[id]
	if !ok {
		apiError(w, http.StatusNotFound, "NotFound", "The subscription was not found")
		return
	}
	writeJSONStatus(w, http.StatusOK, m.wireLocked(s))
}

// plans: GET /saas/subscriptions/{id}/listAvailablePlans[?planId=] (§4.5):
// every plan of the offer, current one included; unknown subscription 404.
func (m *Marketplace) plans(w http.ResponseWriter, r *http.Request, id string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.subs[id]
	if !ok {
		apiError(w, http.StatusNotFound, "NotFound", "The subscription was not found")
		return
	}
	filter := r.URL.Query().Get("planId")
	out := []any{}
	for _, p := range m.offers[s.OfferID].Plans {
		if filter != "" && p.PlanID != filter {
			continue
		}
		out = append(out, planWire(p))
	}
	writeJSONStatus(w, http.StatusOK, map[string]any{"plans": out})
}

func planWire(p Plan) map[string]any {
	dims := []any{}
	included := []any{}
	for _, d := range p.Dimensions {
		dims = append(dims, map[string]any{"id": d, "currency": "USD", "pricePerUnit": 0.01, "unitOfMeasure": "unit", "displayName": d})
		if u, ok := p.Included[d]; ok {
			included = append(included, map[string]any{"dimensionId": d, "units": strconv.FormatFloat(u, 'f', -1, 64)})
		}
	}
	var minQ, maxQ any
	if p.PerSeat {
		minQ, maxQ = p.MinQuantity, p.MaxQuantity
	}
	return map[string]any{"planId": p.PlanID, "displayName": p.DisplayName, "isPrivate": p.Private, "description": p.DisplayName,
		"minQuantity": minQ, "maxQuantity": maxQ, "hasFreeTrials": false, "isPricePerSeat": p.PerSeat, "isStopSell": false, "market": "US",
		"planComponents": map[string]any{
			"recurrentBillingTerms": []any{map[string]any{"currency": "USD", "price": 10.0, "termUnit": p.TermUnit,
				"termDescription": p.TermUnit + " subscription", "meteredQuantityIncluded": included}},
			"meteringDimensions": dims,
		}}
}

func (m *Marketplace) operationLocation(subID, opID string) string {
	return m.o.Base + "/saas/subscriptions/" + subID + "/operations/" + opID + "?api-version=" + APIVersion
}

func allowed(s *subscription, op string) bool {
	for _, o := range s.AllowedCustomerOperations {
		if o == op {
			return true
		}
	}
	return false
}

// startPartnerOpLocked creates a publisher operation that completes after
// PartnerDelay (or fails if FailNextOperation was armed).
func (m *Marketplace) startPartnerOpLocked(s *subscription, action string) *operation {
	now := m.now()
	op := m.newOpLocked(s, action, SourcePartner, OpInProgress, now)
	op.due = now.Add(m.o.PartnerDelay)
	if len(m.failOps) > 0 {
		msg := m.failOps[0]
		m.failOps = m.failOps[1:]
		op.failMsg = &msg
	}
	return op
}

// patchRequest is the body of a PATCH of a subscription.
type patchRequest struct {
	PlanID   *string `json:"planId"`
	Quantity flexNum `json:"quantity"`
}

// apiFault is an error answer of the marketplace APIs.
type apiFault struct {
	status  int
	code    string
	message string
}

func badRequest(message string) *apiFault {
	return &apiFault{http.StatusBadRequest, "BadRequest", message}
}

func (e *apiFault) write(w http.ResponseWriter) { apiError(w, e.status, e.code, e.message) }

// patch: PATCH /saas/subscriptions/{id} with one of planId or quantity (§4.6).
func (m *Marketplace) patch(w http.ResponseWriter, r *http.Request, id string) {
	var in patchRequest
	bodyErr := decodeBody(r, &in)
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.subs[id]
	if !ok {
		apiError(w, http.StatusNotFound, "NotFound", "The subscription was not found")
		return
	}
	hasPlan, hasQty := in.PlanID != nil && *in.PlanID != "", in.Quantity.set || in.Quantity.bad
	if bad := patchRefusal(s, bodyErr, hasPlan, hasQty); bad != nil {
		bad.write(w)
		return
	}
	var planID string
	var qty int
	var bad *apiFault
	if hasPlan {
		planID, qty, bad = m.planChangeLocked(s, *in.PlanID)
	} else {
		planID, qty, bad = m.quantityChangeLocked(s, in.Quantity)
	}
	if bad != nil {
		bad.write(w)
		return
	}
	action := "ChangePlan"
	if hasQty {
		action = "ChangeQuantity"
	}
	op := m.startPartnerOpLocked(s, action)
	op.PlanID, op.Quantity = planID, qty
	w.Header().Set("Operation-Location", m.operationLocation(s.ID, op.ID))
	w.WriteHeader(http.StatusAccepted)
}

// patchRefusal is the answer to a PATCH the subscription's state or the
// body's shape refuses, or nil.
func patchRefusal(s *subscription, bodyErr error, hasPlan, hasQty bool) *apiFault {
	switch {
	case bodyErr != nil:
		return badRequest("The request body is not valid JSON")
	case hasPlan == hasQty:
		return badRequest("Send exactly one of planId or quantity")
	case s.pending() != nil:
		return &apiFault{http.StatusConflict, "Conflict", "Another operation is in progress on this subscription"}
	case s.Status != StatusSubscribed:
		return badRequest("The subscription is " + s.Status + ", not Subscribed")
	case !allowed(s, "Update"):
		return badRequest("Update is not in allowedCustomerOperations")
	}
	return nil
}

// planChangeLocked checks a change to plan planID and answers the plan and
// the quantity the subscription would have on it.
func (m *Marketplace) planChangeLocked(s *subscription, planID string) (string, int, *apiFault) {
	p, ok := m.plan(s.OfferID, planID)
	if !ok {
		return "", 0, badRequest("The plan " + planID + " is not available to this subscription")
	}
	if planID == s.PlanID {
		return "", 0, badRequest("The subscription is already on plan " + planID)
	}
	qty, err := quantityOnPlan(p, s.Quantity)
	if err != nil {
		return "", 0, badRequest(err.Error())
	}
	return planID, qty, nil
}

// quantityChangeLocked checks a change of quantity on the current plan and
// answers the plan and the new quantity.
func (m *Marketplace) quantityChangeLocked(s *subscription, quantity flexNum) (string, int, *apiFault) {
	cur, _ := m.plan(s.OfferID, s.PlanID)
	q, ok := quantity.int()
	switch {
	case !ok:
		return "", 0, badRequest("The quantity is not a whole number")
	case cur == nil || !cur.PerSeat:
		return "", 0, badRequest("The plan " + s.PlanID + " is not priced per seat")
	case q == s.Quantity:
		return "", 0, badRequest("The quantity is already " + strconv.Itoa(q))
	case q < cur.MinQuantity || q > cur.MaxQuantity:
		return "", 0, badRequest(fmt.Sprintf("The quantity must be between %d and %d on plan %s; change the plan first", cur.MinQuantity, cur.MaxQuantity, s.PlanID))
	}
	return s.PlanID, q, nil
}

// quantityOnPlan is the quantity a subscription keeps when it moves to p.
func quantityOnPlan(p *Plan, q int) (int, error) {
	if !p.PerSeat {
		return 0, nil
	}
	if q == 0 {
		return p.MinQuantity, nil
	}
	if q < p.MinQuantity || q > p.MaxQuantity {
		return 0, fmt.Errorf("the quantity %d is outside %d–%d of plan %s; change the quantity first", q, p.MinQuantity, p.MaxQuantity, p.PlanID)
	}
	return q, nil
}

// delete: DELETE /saas/subscriptions/{id} → 202, Unsubscribed after PartnerDelay (§4.7).
func (m *Marketplace) delete(w http.ResponseWriter, id string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.subs[id]
	switch {
	case !ok:
		apiError(w, http.StatusNotFound, "NotFound", "The subscription was not found")
		return
	case s.Status == StatusUnsubscribed:
		apiError(w, http.StatusBadRequest, "BadRequest", "The subscription is already Unsubscribed")
		return
	case !allowed(s, "Delete"):
		apiError(w, http.StatusBadRequest, "BadRequest", "Delete is not in allowedCustomerOperations")
		return
	case s.pending() != nil:
		apiError(w, http.StatusConflict, "Conflict", "Another operation is in progress on this subscription")
		return
	}
	op := m.startPartnerOpLocked(s, "Unsubscribe")
	w.Header().Set("Operation-Location", m.operationLocation(s.ID, op.ID))
	w.WriteHeader(http.StatusAccepted)
}

// listOperations: GET …/operations (§5.2): the customer operations still
// InProgress; an empty object when there are none.
func (m *Marketplace) listOperations(w http.ResponseWriter, id string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.subs[id]
	if !ok {
		apiError(w, http.StatusNotFound, "NotFound", "The subscription was not found")
		return
	}
	var out []operationWire
	for _, op := range s.ops {
		if op.Status == OpInProgress && op.Source == SourceAzure {
			out = append(out, m.opWireLocked(op))
		}
	}
	if len(out) == 0 {
		writeJSONStatus(w, http.StatusOK, struct{}{})
		return
	}
	writeJSONStatus(w, http.StatusOK, map[string]any{"operations": out})
}

// getOperation: GET …/operations/{opId} (§5.3).
func (m *Marketplace) getOperation(w http.ResponseWriter, id, opID string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	op := m.opLocked(id, opID)
	if op == nil {
		apiError(w, http.StatusNotFound, "NotFound", "The subscription or operation was not found")
		return
	}
	writeJSONStatus(w, http.StatusOK, m.opWireLocked(op))
}

// patchOperation: PATCH …/operations/{opId} {"status":"Success"|"Failure"}
// (§5.3); 409 once finalized. Success applies a customer change.
func (m *Marketplace) patchOperation(w http.ResponseWriter, r *http.Request, id, opID string) {
	var in struct {
		Status string `json:"status"`
	}
	bodyErr := decodeBody(r, &in)
	m.mu.Lock()
	defer m.mu.Unlock()
	op := m.opLocked(id, opID)
	if op == nil {
		apiError(w, http.StatusNotFound, "NotFound", "The subscription or operation was not found")
		return
	}
	status := strings.TrimSpace(in.Status)
	switch {
	case bodyErr != nil || (status != "Success" && status != "Failure"):
		apiError(w, http.StatusBadRequest, "BadRequest", `The status must be "Success" or "Failure"`)
		return
	case op.Status != OpInProgress:
		apiError(w, http.StatusConflict, "Conflict", "The operation is already "+op.Status+"; a newer update is already fulfilled")
		return
	case op.Source != SourceAzure:
		apiError(w, http.StatusBadRequest, "BadRequest", "An operation requested by the publisher cannot be updated")
		return
	}
	now := m.now()
	if status == "Failure" {
		op.Status, op.ErrorMessage = OpFailed, "The publisher reported a failure"
	} else if err := m.applyLocked(m.subs[id], op, now); err != nil {
		op.Status, op.ErrorStatusCode, op.ErrorMessage = OpFailed, "400", err.Error()
	} else {
		op.Status = OpSucceeded
	}
	w.WriteHeader(http.StatusOK)
}

// Import adds a subscription the marketplace already holds (the sandbox's
// demo data), with its id, plan, status, seats and beneficiary as given. An
// id already known is left as it is.
func (m *Marketplace) Import(s Subscription) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.subs[s.ID]; ok {
		return nil
	}
	p, ok := m.plan(s.OfferID, s.PlanID)
	if !ok {
		return fmt.Errorf("azurefake: no plan %q in offer %q", s.PlanID, s.OfferID)
	}
	now := m.now()
	if s.PublisherID == "" {
		s.PublisherID = m.o.PublisherID
	}
	if s.Name == "" {
		s.Name = "SaaS subscription"
	}
	if !p.PerSeat {
		s.Quantity = 0
	}
	if s.TermUnit == "" {
		s.TermUnit = p.TermUnit
	}
	if s.AllowedCustomerOperations == nil {
		s.AllowedCustomerOperations = []string{"Read", "Update", "Delete"}
	}
	if s.SandboxType == "" {
		s.SandboxType, s.SessionMode = "None", "None"
	}
	if s.Created.IsZero() {
		s.Created = now
	}
	s.LastModified = now
	sub := &subscription{Subscription: s}
	m.subs[s.ID] = sub
	m.order = append(m.order, sub)
	return nil
}
