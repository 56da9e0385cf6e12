package api

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/marketgate/marketgate/server/apperr"
	"github.com/marketgate/marketgate/server/awsmp"
	"github.com/marketgate/marketgate/server/lifecycle"
	"github.com/marketgate/marketgate/server/seats"
	"github.com/marketgate/marketgate/server/views"
	"github.com/marketgate/marketgate/store"
)

// The subscription's one shape (server/views), shared with the outbound
// webhook events.
type subscriptionView = views.Subscription

func viewSubscription(s *store.Subscription) subscriptionView { return views.Of(s) }

func viewRow(r *store.SubscriptionRow) subscriptionView { return views.OfRow(r) }

var stateNames = func() []string {
	out := make([]string, len(lifecycle.States))
	for i, s := range lifecycle.States {
		out[i] = string(s)
	}
	return out
}()

// parseSort reads "a,-b": up to three known fields, each at most once.
func parseSort(raw string) ([]store.SortField, error) {
	if raw == "" {
		return nil, nil
	}
	parts := strings.Split(raw, ",")
	if len(parts) > 3 {
		return nil, apperr.New(apperr.Invalid, "sort takes at most 3 fields")
	}
	seen := map[string]bool{}
	var out []store.SortField
	for _, p := range parts {
		p = strings.TrimSpace(p)
		sf := store.SortField{Field: strings.TrimPrefix(p, "-"), Desc: strings.HasPrefix(p, "-")}
		if _, ok := store.SubscriptionSortFields[sf.Field]; !ok {
			fields := make([]string, 0, len(store.SubscriptionSortFields))
			for f := range store.SubscriptionSortFields {
				fields = append(fields, f)
			}
			sort.Strings(fields)
			return nil, apperr.New(apperr.Invalid, "cannot sort by %q; sort by one of %s, with - for descending",
				sf.Field, strings.Join(fields, ", "))
		}
		if seen[sf.Field] {
			return nil, apperr.New(apperr.Invalid, "sort names %s twice", sf.Field)
		}
		seen[sf.Field] = true
		out = append(out, sf)
	}
	return out, nil
}

// subscriptionQuery names the subscriptions list's query parameters
// (parsed by listSubscriptions; this type describes them in the contract).
type subscriptionQuery struct {
	Marketplace string    `form:"marketplace"` // comma-separated: aws, azure
	State       string    `form:"state"`       // comma-separated states
	Offer       uint      `form:"offer"`
	Plan        uint      `form:"plan"`
	Customer    uint      `form:"customer"`
	Q           string    `form:"q"`
	Sort        string    `form:"sort"` // up to 3 fields, - for descending: -updated_at,id
	Limit       int       `form:"limit"`
	Offset      int       `form:"offset"`
	Cursor      string    `form:"cursor"`
	CreatedFrom time.Time `form:"created_from"`
	CreatedTo   time.Time `form:"created_to"`
	ChangedFrom time.Time `form:"changed_from"`
	ChangedTo   time.Time `form:"changed_to"`
	SeatBased   string    `form:"seat_based"` // true or false
	Format      string    `form:"format"`     // csv: the whole set as a CSV file
}

// subscriptionList is a page of subscriptions.
type subscriptionList struct {
	Items []subscriptionView `json:"items"`
	// Total is how many match: exactly, or when total_capped is true more
	// than this many (counting stops at 10,000, or at the end of the
	// offset's page when further: a next page exists).
	Total       int64   `json:"total"`
	TotalCapped bool    `json:"total_capped"`
	Limit       int     `json:"limit"`
	Offset      int     `json:"offset"`
	NextCursor  *string `json:"next_cursor"` // null on the last page
}

// listSubscriptions is the subscriptions table (JSON), or with format=csv
// the whole filtered set as a CSV file, streamed by the handler itself.
func (s *Server) listSubscriptions(c *gin.Context) (subscriptionList, error) {
	p := params{c: c}
	f := store.SubscriptionFilter{
		Marketplaces: p.list("marketplace", marketplaces),
		States:       p.list("state", stateNames),
		OfferID:      p.id("offer"),
		PlanID:       p.id("plan"),
		CustomerID:   p.id("customer"),
		Q:            p.text("q", 200),
		Limit:        p.intRange("limit", 50, 1, 200),
		Offset:       p.intRange("offset", 0, 0, maxOffset),
		Cursor:       p.text("cursor", 4096),
		CreatedFrom:  p.time("created_from"),
		CreatedTo:    p.time("created_to"),
		ChangedFrom:  p.time("changed_from"),
		ChangedTo:    p.time("changed_to"),
		SeatBased:    p.oneOf("seat_based", []string{"true", "false"}) == "true",
	}
	if p.err != nil {
		return subscriptionList{}, p.err
	}
	if f.Cursor != "" && f.Offset != 0 {
		return subscriptionList{}, apperr.New(apperr.Invalid, "use either cursor or offset, not both")
	}
	var err error
	if f.Sort, err = parseSort(c.Query("sort")); err != nil {
		return subscriptionList{}, err
	}
	if scope := customerScope(currentUser(c)); scope != 0 {
		if f.CustomerID != 0 && f.CustomerID != scope {
			return subscriptionList{}, apperr.New(apperr.NotFound, "customer %d does not exist", f.CustomerID)
		}
		f.CustomerID = scope
	}
	if c.Query("format") == "csv" {
		s.subscriptionsCSV(c, f)
		return subscriptionList{}, nil
	}
	page, err := s.Store.ListSubscriptions(c.Request.Context(), f)
	if errors.Is(err, store.ErrBadCursor) {
		return subscriptionList{}, apperr.New(apperr.Invalid, "the cursor is invalid or belongs to another sort order")
	}
	if err != nil {
		return subscriptionList{}, err
	}
	out := subscriptionList{Items: make([]subscriptionView, 0, len(page.Items)), Total: page.Total, TotalCapped: page.TotalCapped, Limit: f.Limit, Offset: f.Offset}
	for i := range page.Items {
		out.Items = append(out.Items, viewRow(&page.Items[i]))
	}
	if page.NextCursor != "" {
		out.NextCursor = &page.NextCursor
	}
	return out, nil
}

// csvMaxRows bounds one export.
const csvMaxRows = 200000

// subscriptionsCSV streams the filtered set as CSV, in the list's sort
// order, read in one pass.
func (s *Server) subscriptionsCSV(c *gin.Context, f store.SubscriptionFilter) {
	c.Header("Content-Type", "text/csv; charset=utf-8")
	c.Header("Content-Disposition", `attachment; filename="subscriptions.csv"`)
	w := csv.NewWriter(c.Writer)
	_ = w.Write([]string{"id", "marketplace", "state", "name", "customer", "offer", "plan", "quantity", "aws_customer_account_id",
		"aws_customer_identifier", "aws_license_arn", "aws_product_code", "azure_subscription_id", "term_start", "term_end",
		"free_trial", "state_changed_at", "created_at", "updated_at"})
	ts := func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.UTC().Format(time.RFC3339)
	}
	err := s.Store.EachSubscription(c.Request.Context(), f, csvMaxRows, func(r *store.SubscriptionRow) error {
		v := viewRow(r)
		customer, offer, plan := "", "", ""
		if v.Customer != nil {
			customer = v.Customer.Name
		}
		if v.Offer != nil {
			offer = v.Offer.MarketplaceID
		}
		if v.Plan != nil {
			plan = v.Plan.PlanID
		}
		return w.Write([]string{strconv.FormatUint(uint64(v.ID), 10), v.Marketplace, v.State, csvSafe(v.Name), csvSafe(customer),
			csvSafe(offer), csvSafe(plan), strconv.Itoa(v.Quantity), v.AWSCustomerAccountID, csvSafe(v.AWSCustomerIdentifier),
			csvSafe(v.AWSLicenseArn), csvSafe(v.AWSProductCode), csvSafe(v.AzureSubscriptionID), ts(v.TermStart), ts(v.TermEnd),
			strconv.FormatBool(v.FreeTrial), ts(&v.StateChangedAt), ts(&v.CreatedAt), ts(&v.UpdatedAt)})
	})
	if err != nil {
		s.Log.Error("subscriptions export", "request_id", requestID(c), "err", err)
		_ = w.Write([]string{"# export interrupted: see the server log, request " + requestID(c)})
	}
	w.Flush()
}

type timelineView struct {
	ID        uint             `json:"id"`
	At        time.Time        `json:"at"`
	Kind      string           `json:"kind"`
	Source    string           `json:"source"`
	Summary   string           `json:"summary"`
	FromState string           `json:"from_state"`
	ToState   string           `json:"to_state"`
	Actor     string           `json:"actor"`
	Payload   *json.RawMessage `json:"payload"`
	InboxID   *uint            `json:"inbox_id"`
}

// entitlementView is one of a subscription's AWS entitlements.
type entitlementView struct {
	Dimension string     `json:"dimension"`
	Kind      string     `json:"kind"`
	Value     string     `json:"value"`
	ExpiresAt *time.Time `json:"expires_at"`
	UpdatedAt time.Time  `json:"updated_at"`
}

// agreementView is one of a subscription's AWS agreements.
type agreementView struct {
	AgreementID         string     `json:"agreement_id"`
	OfferID             string     `json:"offer_id"`
	Intent              string     `json:"intent"`
	Status              string     `json:"status"`
	PreviousAgreementID string     `json:"previous_agreement_id,omitempty"`
	StartsAt            *time.Time `json:"starts_at"`
	EndsAt              *time.Time `json:"ends_at"`
	EndedAt             *time.Time `json:"ended_at"`
	DaysBeforeEnd       *int       `json:"days_before_end"`
	AutoRenewal         *bool      `json:"auto_renewal"`
	TermsStatus         string     `json:"terms_status"` // "" not read yet, read, unavailable (no Agreement Service), error
	FreeTrialDays       *int       `json:"free_trial_days"`
	FreeTrialEndsAt     *time.Time `json:"free_trial_ends_at"`
	UpdatedAt           time.Time  `json:"updated_at"`
}

// seatCountsView is a per-user subscription's seats: bought, assigned,
// free, over the quantity, and the plan's seat policies.
type seatCountsView struct{ seats.Summary }

// subscriptionDetail is a subscription's page: the subscription, its
// history and what the marketplaces and the seller did with it.
type subscriptionDetail struct {
	Subscription subscriptionView  `json:"subscription"`
	Timeline     []timelineView    `json:"timeline"`
	Entitlements []entitlementView `json:"entitlements"`
	Agreements   []agreementView   `json:"agreements"`
	Operations   []operationView   `json:"operations"`
	// Seats: per-user plans only (over > 0 flags seats beyond the quantity).
	Seats *seatCountsView `json:"seats"`
	// Audit: who did what to it; empty for customer admins.
	Audit []auditView `json:"audit"`
	// AWSMeteringIdentity: the one identity AWS usage is sent under (never
	// both models for one customer), what the next metering record will
	// carry; AWS only.
	AWSMeteringIdentity *awsmp.MeteringIdentity `json:"aws_metering_identity"`
	// FreeTrial: AWS free trials, from the agreements' terms (GetAgreementTerms).
	FreeTrial *awsmp.FreeTrial `json:"free_trial"`
	// Consent: Microsoft only: the tenant's admin consent to the offer's
	// extra permissions.
	Consent *adminConsentView `json:"consent"`
}

// viewSubscriptionWith is a subscription's view with its customer, offer
// and plan (when loaded).
func viewSubscriptionWith(sub *store.Subscription) subscriptionView { return views.OfLoaded(sub) }

func viewTimeline(e *store.TimelineEvent) timelineView {
	var payload *json.RawMessage // null when there is none
	if e.Payload != "" {
		p := json.RawMessage(e.Payload)
		if !json.Valid(p) {
			p, _ = json.Marshal(e.Payload)
		}
		payload = &p
	}
	return timelineView{ID: e.ID, At: e.At, Kind: e.Kind, Source: e.Source, Summary: e.Summary,
		FromState: e.FromState, ToState: e.ToState, Actor: e.Actor, Payload: payload, InboxID: e.InboxID}
}

func viewAgreement(a *store.AWSAgreement) agreementView {
	var renew *bool
	if a.AutoRenewal != "" {
		b := a.AutoRenewal == "true"
		renew = &b
	}
	return agreementView{a.AgreementID, a.OfferID, a.Intent, a.Status, a.PreviousAgreementID, a.StartsAt, a.EndsAt,
		a.EndedAt, a.DaysBeforeEnd, renew, a.TermsStatus, a.FreeTrialDays, a.FreeTrialEndsAt, a.UpdatedAt}
}

// scopedSubscription loads the subscription named by the path's :id; a
// subscription of another customer than a customer admin's own does not
// exist for them.
func (s *Server) scopedSubscription(c *gin.Context) (*store.Subscription, error) {
	id, err := idParam(c, "id")
	if err != nil {
		return nil, err
	}
	sub, err := s.Store.ScopedSubscription(c.Request.Context(), id, customerScope(currentUser(c)))
	if errors.Is(err, store.ErrNotFound) {
		return nil, apperr.New(apperr.NotFound, "subscription %d does not exist", id)
	}
	return sub, err
}

func (s *Server) getSubscription(c *gin.Context) (subscriptionDetail, error) {
	sub, err := s.scopedSubscription(c)
	if err != nil {
		return subscriptionDetail{}, err
	}
	ctx, id := c.Request.Context(), sub.ID
	evs, err := s.Store.Timeline(ctx, id)
	if err != nil {
		return subscriptionDetail{}, err
	}
	out := subscriptionDetail{Subscription: viewSubscriptionWith(sub), Timeline: make([]timelineView, 0, len(evs)), Audit: []auditView{}}
	for i := range evs {
		out.Timeline = append(out.Timeline, viewTimeline(&evs[i]))
	}
	if out.Entitlements, err = s.subscriptionEntitlementViews(ctx, id); err != nil {
		return subscriptionDetail{}, err
	}
	ags, err := s.Store.SubscriptionAgreements(ctx, id)
	if err != nil {
		return subscriptionDetail{}, err
	}
	out.Agreements = make([]agreementView, 0, len(ags))
	for i := range ags {
		out.Agreements = append(out.Agreements, viewAgreement(&ags[i]))
	}
	if sub.Marketplace == "aws" {
		ft := awsmp.FreeTrialOf(ags, s.Now())
		out.FreeTrial = &ft
	}
	if out.Operations, err = s.subscriptionOperationViews(ctx, id); err != nil {
		return subscriptionDetail{}, err
	}
	out.Consent = s.consentFor(c, sub)
	if sub.Plan != nil && sub.Plan.SeatBased {
		sm, err := s.seats.Summary(ctx, sub)
		if err != nil {
			return subscriptionDetail{}, err
		}
		out.Seats = &seatCountsView{sm}
	}
	if customerScope(currentUser(c)) == 0 {
		if out.Audit, err = s.subscriptionAuditViews(ctx, id); err != nil {
			return subscriptionDetail{}, err
		}
	}
	if sub.Marketplace == "aws" {
		mi := awsmp.MeteringIdentityFor(awsmp.OfferModel(sub), sub)
		out.AWSMeteringIdentity = &mi
	}
	return out, nil
}

// subscriptionEntitlementViews are the subscription's entitlements.
func (s *Server) subscriptionEntitlementViews(ctx context.Context, id uint) ([]entitlementView, error) {
	ents, err := s.Store.SubscriptionEntitlements(ctx, id)
	if err != nil {
		return nil, err
	}
	out := make([]entitlementView, 0, len(ents))
	for _, e := range ents {
		out = append(out, entitlementView{e.Dimension, e.Kind, e.Value, e.ExpiresAt, e.UpdatedAt})
	}
	return out, nil
}

// subscriptionOperationViews are the subscription's latest 50 operations.
func (s *Server) subscriptionOperationViews(ctx context.Context, id uint) ([]operationView, error) {
	ops, err := s.Store.SubscriptionOperations(ctx, id, 50)
	if err != nil {
		return nil, err
	}
	out := make([]operationView, 0, len(ops))
	for i := range ops {
		out = append(out, viewOperation(&ops[i]))
	}
	return out, nil
}

// subscriptionAuditViews are the subscription's latest 500 audit entries
// (never null).
func (s *Server) subscriptionAuditViews(ctx context.Context, id uint) ([]auditView, error) {
	rows, err := s.Store.SubscriptionAudit(ctx, id, 500)
	if err != nil {
		return nil, err
	}
	out := []auditView{}
	for _, r := range rows {
		out = append(out, auditView{r.ID, r.At, r.ActorEmail, r.Action, r.TargetType, r.TargetID, r.Before, r.After, r.RequestID, r.IP})
	}
	return out, nil
}

// subscriptionRecord is the marketplace's own record of a subscription:
// Microsoft's (Record, ReadAt), or for AWS the messages stored for it.
type subscriptionRecord struct {
	Marketplace string              `json:"marketplace"`
	Source      string              `json:"source"`
	Record      json.RawMessage     `json:"record,omitempty"`
	ReadAt      *time.Time          `json:"read_at,omitempty"`
	Messages    *[]inboxMessageView `json:"messages,omitempty"`
}

// subscriptionRaw is the marketplace's own record of a subscription:
// Microsoft's Get subscription, read now; for AWS, which has no such call,
// the inbound messages stored for it (registration, notifications), newest
// first, with their bodies.
func (s *Server) subscriptionRaw(c *gin.Context) (subscriptionRecord, error) {
	sub, err := s.scopedSubscription(c)
	if err != nil {
		return subscriptionRecord{}, err
	}
	ctx := c.Request.Context()
	out := subscriptionRecord{Marketplace: sub.Marketplace}
	if sub.Marketplace == "azure" {
		if s.Azure == nil {
			return subscriptionRecord{}, apperr.New(apperr.Unavailable, "Microsoft's marketplace is not configured on this instance")
		}
		ms, err := s.Azure.Client.GetRaw(ctx, sub.AzureSubscriptionID)
		if err != nil {
			return subscriptionRecord{}, s.marketplaceError(c, err)
		}
		at := s.Now().UTC()
		out.Source, out.Record, out.ReadAt = "Microsoft SaaS Fulfillment API: Get subscription", json.RawMessage(ms), &at
		return out, nil
	}
	msgs, err := s.Store.SubscriptionMessages(ctx, sub.ID, 20)
	if err != nil {
		return subscriptionRecord{}, err
	}
	views := make([]inboxMessageView, 0, len(msgs))
	for i := range msgs {
		views = append(views, viewInbox(&msgs[i], true))
	}
	out.Source, out.Messages = "AWS Marketplace messages stored for this subscription (AWS has no API to read a subscription)", &views
	return out, nil
}
