package api

import (
	"context"
	"encoding/json"
	"net/mail"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/marketgate/marketgate/server/apperr"
	"github.com/marketgate/marketgate/server/lifecycle"
	"github.com/marketgate/marketgate/store"
)

// The customer portal's API (/api/my/...): a customer admin's own
// subscriptions, as a customer sees them, and their organisation's
// registration information. Only customer admins call it; everything is
// read for the caller's own customer, so another customer's subscription
// simply does not exist (404). Nothing internal is shown: no versions, no
// inbound messages, no identities beyond what the buyer knows.

// customerAdminOnly: the customer portal's routes. Seller staff are
// refused with their own code (they use the seller console).
var customerAdminOnly = access{roles: []string{store.RoleCustomerAdmin}, refusal: &apperr.Error{Code: apperr.CustomerPortalOnly,
	Message: "this is the customer portal's API, for customer admins; seller staff use the seller console"}}

// SuspendedGrace is how long Microsoft keeps a suspended SaaS subscription
// before it unsubscribes it (reference/microsoft-marketplace.md, the
// webhook's Suspend action: "Microsoft sends Unsubscribe after a 30-day
// grace period"; a failed renewal payment arrives as Suspend).
const SuspendedGrace = 30 * 24 * time.Hour

// What the page says about a subscription's state: a situation (one text
// each in the portal's catalogues), who acts next and what the customer
// can do.
const (
	// situations
	sitPendingSeller      = "pending_seller"      // the seller activates it
	sitPendingBuyer       = "pending_buyer"       // the buyer finishes registration or confirms the activation
	sitPendingMarketplace = "pending_marketplace" // the marketplace has not confirmed it yet
	sitActive             = "active"              // in use
	sitSuspendedPayment   = "suspended_payment"   // Microsoft could not collect payment
	sitUnsubscribePending = "unsubscribe_pending" // cancelled, ends soon
	sitEnded              = "ended"               // over
	sitFailed             = "failed"              // the marketplace refused the purchase
	// who acts next
	actorNone        = "none"
	actorSeller      = "seller"
	actorBuyer       = "buyer"
	actorMarketplace = "marketplace"
	// what the customer can do
	stepNone               = "none"
	stepWait               = "wait"
	stepFinishRegistration = "finish_registration"
	stepConfirmActivation  = "confirm_activation"
	stepUpdatePayment      = "update_payment"
	stepSubscribeAgain     = "subscribe_again"
	stepContactSeller      = "contact_seller"
)

// myStatus is a subscription's state in plain terms: the page words it
// from situation, actor and next_step.
type myStatus struct {
	State     string `json:"state" enum:"pending,active,suspended,unsubscribe_pending,ended,failed"`
	Situation string `json:"situation" enum:"pending_seller,pending_buyer,pending_marketplace,active,suspended_payment,unsubscribe_pending,ended,failed"`
	// Actor: who must act next.
	Actor string `json:"actor" enum:"none,seller,buyer,marketplace"`
	// NextStep: what the customer can do.
	NextStep string `json:"next_step" enum:"none,wait,finish_registration,confirm_activation,update_payment,subscribe_again,contact_seller"`
	// CanUse: the customer's users may use the product now.
	CanUse bool `json:"can_use"`
	// DataKept: the customer's data is kept (suspended, cancelled).
	DataKept bool `json:"data_kept"`
	// Since: when the subscription entered this state.
	Since time.Time `json:"since"`
	// EndsBy: a suspended Microsoft subscription is unsubscribed then
	// unless the payment is settled.
	EndsBy *time.Time `json:"ends_by"`
}

// myParty is a purchaser or beneficiary as the buyer knows it: on
// Microsoft the e-mail and tenant, on AWS the account id.
type myParty struct {
	Email        string `json:"email"`
	TenantID     string `json:"tenant_id"`
	AWSAccountID string `json:"aws_account_id"`
}

// mySeats is a per-user plan's seats: bought and assigned.
type mySeats struct {
	Quantity int `json:"quantity"`
	Assigned int `json:"assigned"`
}

// mySubscriptionView is a subscription as its customer sees it.
type mySubscriptionView struct {
	ID          uint     `json:"id"`
	Name        string   `json:"name"`
	Marketplace string   `json:"marketplace" enum:"aws,azure"`
	Offer       string   `json:"offer"`
	Plan        string   `json:"plan"`
	Status      myStatus `json:"status"`
	Quantity    int      `json:"quantity"`
	// Seats: per-user plans only.
	Seats     *mySeats   `json:"seats"`
	TermStart *time.Time `json:"term_start"`
	TermEnd   *time.Time `json:"term_end"`
	// RenewsOn: the day the term renews (auto-renew on, live only).
	RenewsOn  *time.Time `json:"renews_on"`
	AutoRenew bool       `json:"auto_renew"`
	FreeTrial bool       `json:"free_trial"`
	// Purchaser and Beneficiary: on the subscription's own page only.
	Purchaser   *myParty `json:"purchaser"`
	Beneficiary *myParty `json:"beneficiary"`
}

// mySubscriptionList is the customer's subscriptions.
type mySubscriptionList struct {
	Items []mySubscriptionView `json:"items"`
}

// mySubscriptionAnswer is one subscription.
type mySubscriptionAnswer struct {
	Subscription mySubscriptionView `json:"subscription"`
}

// myCustomer is the caller's customer id (customerAdminOnly has checked
// the role; an admin of no customer has nothing here).
func myCustomer(c *gin.Context) (uint, error) {
	if id := customerScope(currentUser(c)); id != 0 {
		return id, nil
	}
	return 0, apperr.New(apperr.CustomerPortalOnly, "your account belongs to no organisation")
}

func (s *Server) listMySubscriptions(c *gin.Context) (mySubscriptionList, error) {
	cust, err := myCustomer(c)
	if err != nil {
		return mySubscriptionList{}, err
	}
	ctx := c.Request.Context()
	subs, err := s.Store.CustomerSubscriptions(ctx, cust)
	if err != nil {
		return mySubscriptionList{}, err
	}
	out := mySubscriptionList{Items: make([]mySubscriptionView, 0, len(subs))}
	for i := range subs {
		v, err := s.mySubscription(ctx, &subs[i], false)
		if err != nil {
			return mySubscriptionList{}, err
		}
		out.Items = append(out.Items, v)
	}
	return out, nil
}

func (s *Server) getMySubscription(c *gin.Context) (mySubscriptionAnswer, error) {
	cust, err := myCustomer(c)
	if err != nil {
		return mySubscriptionAnswer{}, err
	}
	id, err := idParam(c, "id")
	if err != nil {
		return mySubscriptionAnswer{}, err
	}
	sub, err := s.Store.CustomerSubscription(c.Request.Context(), cust, id)
	if err != nil {
		if err == store.ErrNotFound {
			return mySubscriptionAnswer{}, apperr.New(apperr.NotFound, "subscription %d does not exist", id)
		}
		return mySubscriptionAnswer{}, err
	}
	v, err := s.mySubscription(c.Request.Context(), sub, true)
	return mySubscriptionAnswer{Subscription: v}, err
}

// mySubscription builds the customer's view of a subscription; withParties
// adds the purchaser and beneficiary.
func (s *Server) mySubscription(ctx context.Context, sub *store.Subscription, withParties bool) (mySubscriptionView, error) {
	v := mySubscriptionView{ID: sub.ID, Name: sub.Name, Marketplace: sub.Marketplace, Quantity: sub.Quantity,
		TermStart: sub.TermStart, TermEnd: sub.TermEnd, AutoRenew: sub.AutoRenew, FreeTrial: sub.FreeTrial}
	if sub.Offer != nil {
		v.Offer = sub.Offer.Name
	}
	if sub.Plan != nil {
		v.Plan = sub.Plan.Name
	}
	var err error
	if v.Status, err = s.myStatusOf(ctx, sub); err != nil {
		return v, err
	}
	if sub.Plan != nil && sub.Plan.SeatBased {
		sm, err := s.seats.Summary(ctx, sub)
		if err != nil {
			return v, err
		}
		v.Seats = &mySeats{Quantity: sm.Bought, Assigned: sm.Assigned}
	}
	if sub.Marketplace == string(lifecycle.AWS) && v.TermEnd == nil {
		if err := s.awsTerm(ctx, sub.ID, &v); err != nil {
			return v, err
		}
	}
	v.RenewsOn = renewsOn(sub, &v)
	if withParties {
		if v.Purchaser, v.Beneficiary, err = s.myParties(ctx, sub); err != nil {
			return v, err
		}
	}
	return v, nil
}

// renewsOn is the day a live, auto-renewing subscription renews: the day
// after Microsoft's endDate (the term's last day), AWS's agreement end.
func renewsOn(sub *store.Subscription, v *mySubscriptionView) *time.Time {
	if !v.AutoRenew || v.TermEnd == nil || !lifecycle.State(sub.State).CanUse() {
		return nil
	}
	r := *v.TermEnd
	if sub.Marketplace == string(lifecycle.Azure) {
		r = r.AddDate(0, 0, 1)
	}
	return &r
}

// awsTerm fills an AWS subscription's term from its latest agreement.
func (s *Server) awsTerm(ctx context.Context, subID uint, v *mySubscriptionView) error {
	ags, err := s.Store.SubscriptionAgreements(ctx, subID)
	if err != nil {
		return err
	}
	for i := len(ags) - 1; i >= 0; i-- {
		a := ags[i]
		if a.EndsAt == nil && a.StartsAt == nil {
			continue
		}
		v.TermStart, v.TermEnd = a.StartsAt, a.EndsAt
		v.AutoRenew = a.AutoRenewal == "true"
		return nil
	}
	return nil
}

// myStatusOf says what a subscription's state means for its customer.
func (s *Server) myStatusOf(ctx context.Context, sub *store.Subscription) (myStatus, error) {
	st := lifecycle.State(sub.State)
	out := myStatus{State: sub.State, CanUse: st.CanUse(), Since: sub.StateChangedAt, Actor: actorNone, NextStep: stepNone}
	azure := sub.Marketplace == string(lifecycle.Azure)
	switch st {
	case lifecycle.Pending:
		out.Situation, out.Actor, out.NextStep = sitPendingMarketplace, actorMarketplace, stepWait
		if azure {
			out.Situation, out.Actor = sitPendingSeller, actorSeller
			if sub.Plan != nil && sub.Plan.ActivationPolicy == store.ActivateBuyerConfirms {
				out.Situation, out.Actor, out.NextStep = sitPendingBuyer, actorBuyer, stepConfirmActivation
			}
			break
		}
		open, err := s.Store.OpenOnboarding(ctx, sub.ID, s.Now())
		if err != nil {
			return out, err
		}
		if open {
			out.Situation, out.Actor, out.NextStep = sitPendingBuyer, actorBuyer, stepFinishRegistration
		}
	case lifecycle.Active:
		out.Situation = sitActive
	case lifecycle.Suspended:
		// Only Microsoft suspends; a failed payment (or renewal payment)
		// arrives as Suspend.
		out.Situation, out.Actor, out.NextStep, out.DataKept = sitSuspendedPayment, actorBuyer, stepUpdatePayment, true
		end := sub.StateChangedAt.Add(SuspendedGrace)
		out.EndsBy = &end
	case lifecycle.UnsubscribePending:
		out.Situation, out.Actor, out.DataKept = sitUnsubscribePending, actorMarketplace, true
	case lifecycle.Ended:
		out.Situation, out.NextStep = sitEnded, stepContactSeller
	case lifecycle.Failed:
		out.Situation, out.Actor, out.NextStep = sitFailed, actorBuyer, stepSubscribeAgain
	default:
		out.Situation, out.NextStep = sitEnded, stepContactSeller
	}
	return out, nil
}

// myParties are the purchaser and beneficiary: on AWS the buyer's
// account; on Microsoft the e-mails and tenants Microsoft sent (the resolve
// answer or a later Get Subscription, kept in the subscription's history).
func (s *Server) myParties(ctx context.Context, sub *store.Subscription) (purchaser, beneficiary *myParty, err error) {
	if sub.Marketplace == string(lifecycle.AWS) {
		acct := sub.AWSCustomerAccountID
		if acct == "" && sub.Customer != nil {
			acct = sub.Customer.AWSAccountID
		}
		if acct == "" {
			return nil, nil, nil
		}
		return &myParty{AWSAccountID: acct}, &myParty{AWSAccountID: acct}, nil
	}
	payloads, err := s.Store.PartyPayloads(ctx, sub.ID, 5)
	if err != nil {
		return nil, nil, err
	}
	for _, p := range payloads {
		var doc any
		if json.Unmarshal([]byte(p), &doc) != nil {
			continue
		}
		purchaser, beneficiary = findParty(doc, "purchaser"), findParty(doc, "beneficiary")
		if purchaser != nil || beneficiary != nil {
			break
		}
	}
	if beneficiary == nil && sub.AzureTenantID != "" {
		beneficiary = &myParty{TenantID: sub.AzureTenantID}
	}
	return purchaser, beneficiary, nil
}

// findParty looks for Microsoft's party object (emailId, tenantId) under
// key anywhere in a decoded JSON document.
func findParty(doc any, key string) *myParty {
	switch d := doc.(type) {
	case map[string]any:
		if p, ok := d[key].(map[string]any); ok {
			email, _ := p["emailId"].(string)
			tenant, _ := p["tenantId"].(string)
			if email != "" || tenant != "" {
				return &myParty{Email: strings.TrimSpace(email), TenantID: strings.TrimSpace(tenant)}
			}
		}
		for _, v := range d {
			if p := findParty(v, key); p != nil {
				return p
			}
		}
	case []any:
		for _, v := range d {
			if p := findParty(v, key); p != nil {
				return p
			}
		}
	}
	return nil
}

// contactView is a contact person of the organisation.
type contactView struct {
	Name  string `json:"name"`
	Email string `json:"email"`
	Phone string `json:"phone"`
}

// myOrganisation is the organisation's registration information.
type myOrganisation struct {
	Name             string      `json:"name"`
	BillingContact   contactView `json:"billing_contact"`
	TechnicalContact contactView `json:"technical_contact"`
	// What the marketplaces know it by (read-only).
	AWSAccountID  string    `json:"aws_account_id"`
	AzureTenantID string    `json:"azure_tenant_id"`
	UpdatedAt     time.Time `json:"updated_at"`
}

// myOrganisationAnswer is the organisation.
type myOrganisationAnswer struct {
	Organisation myOrganisation `json:"organisation"`
}

// myOrganisationInput is the corrected registration information (every
// field is written; an empty contact field clears it).
type myOrganisationInput struct {
	Name             string      `json:"name"`
	BillingContact   contactView `json:"billing_contact"`
	TechnicalContact contactView `json:"technical_contact"`
}

func viewMyOrganisation(cu *store.Customer) myOrganisation {
	return myOrganisation{Name: cu.Name,
		BillingContact:   contactView{cu.BillingContactName, cu.BillingContactEmail, cu.BillingContactPhone},
		TechnicalContact: contactView{cu.TechnicalContactName, cu.TechnicalContactEmail, cu.TechnicalContactPhone},
		AWSAccountID:     cu.AWSAccountID, AzureTenantID: cu.AzureTenantID, UpdatedAt: cu.UpdatedAt}
}

func (s *Server) getMyOrganisation(c *gin.Context) (myOrganisationAnswer, error) {
	cust, err := myCustomer(c)
	if err != nil {
		return myOrganisationAnswer{}, err
	}
	cu, err := s.Store.CustomerByID(c.Request.Context(), cust)
	if err != nil {
		return myOrganisationAnswer{}, err
	}
	return myOrganisationAnswer{Organisation: viewMyOrganisation(cu)}, nil
}

func (s *Server) putMyOrganisation(c *gin.Context, in myOrganisationInput) (myOrganisationAnswer, error) {
	cust, err := myCustomer(c)
	if err != nil {
		return myOrganisationAnswer{}, err
	}
	ch, err := checkOrganisation(in)
	if err != nil {
		return myOrganisationAnswer{}, err
	}
	before, after, err := s.Store.UpdateOrganisation(c.Request.Context(), cust, ch)
	if err != nil {
		return myOrganisationAnswer{}, err
	}
	s.audit(c, currentUser(c), "customer.organisation_update", "customer", cust, viewMyOrganisation(before), viewMyOrganisation(after))
	return myOrganisationAnswer{Organisation: viewMyOrganisation(after)}, nil
}

// Field error codes of the organisation form.
const (
	fieldRequired = "required"
	fieldTooLong  = "too_long"
	fieldEmail    = "invalid_email"
	fieldPhone    = "invalid_phone"
	fieldControl  = "invalid_characters"
)

// checkOrganisation validates the form: every problem, one per field.
func checkOrganisation(in myOrganisationInput) (store.OrganisationChanges, error) {
	var f formCheck
	ch := store.OrganisationChanges{
		Name:                  f.text("name", in.Name, 200, true),
		BillingContactName:    f.text("billing_contact.name", in.BillingContact.Name, 200, false),
		BillingContactEmail:   f.email("billing_contact.email", in.BillingContact.Email),
		BillingContactPhone:   f.phone("billing_contact.phone", in.BillingContact.Phone),
		TechnicalContactName:  f.text("technical_contact.name", in.TechnicalContact.Name, 200, false),
		TechnicalContactEmail: f.email("technical_contact.email", in.TechnicalContact.Email),
		TechnicalContactPhone: f.phone("technical_contact.phone", in.TechnicalContact.Phone),
	}
	return ch, f.err()
}

// formCheck collects a form's field errors.
type formCheck struct{ errs []apperr.FieldError }

func (f *formCheck) add(field, code, msg string) {
	f.errs = append(f.errs, apperr.FieldError{Field: field, Code: code, Message: msg})
}

// err is the form's error: nil when every field is valid.
func (f *formCheck) err() error {
	if len(f.errs) == 0 {
		return nil
	}
	msg := "Check the highlighted field."
	if len(f.errs) > 1 {
		msg = "Check the " + strconv.Itoa(len(f.errs)) + " highlighted fields."
	}
	return &apperr.Error{Code: apperr.Invalid, Message: msg, Fields: f.errs}
}

// text trims a text field and checks its length and characters.
func (f *formCheck) text(field, v string, max int, required bool) string {
	v = strings.TrimSpace(v)
	switch {
	case v == "" && required:
		f.add(field, fieldRequired, "Enter a value.")
	case utf8.RuneCountInString(v) > max:
		f.add(field, fieldTooLong, "Use at most "+strconv.Itoa(max)+" characters.")
	case strings.ContainsFunc(v, unicode.IsControl):
		f.add(field, fieldControl, "Remove the line breaks and control characters.")
	}
	return v
}

// email checks an optional e-mail address (a bare address with a domain).
func (f *formCheck) email(field, v string) string {
	v = f.text(field, v, 320, false)
	if v == "" || hasFieldError(f.errs, field) {
		return v
	}
	if a, err := mail.ParseAddress(v); err != nil || a.Address != v || !strings.Contains(v[strings.LastIndex(v, "@")+1:], ".") {
		f.add(field, fieldEmail, "Enter an e-mail address such as name@example.com.")
	}
	return v
}

// phone checks an optional phone number: 5 to 20 digits, with spaces,
// + - ( ) and dots between them.
func (f *formCheck) phone(field, v string) string {
	v = f.text(field, v, 40, false)
	if v == "" || hasFieldError(f.errs, field) {
		return v
	}
	digits, other := 0, false
	for _, r := range v {
		if r >= '0' && r <= '9' {
			digits++
		} else if !strings.ContainsRune(" +-().", r) {
			other = true
		}
	}
	if other || digits < 5 || digits > 20 {
		f.add(field, fieldPhone, "Enter a phone number using digits, spaces and + - ( ) only.")
	}
	return v
}

func hasFieldError(errs []apperr.FieldError, field string) bool {
	for _, e := range errs {
		if e.Field == field {
			return true
		}
	}
	return false
}
