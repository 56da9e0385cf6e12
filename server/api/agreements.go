package api

import (
	"context"
	"errors"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/marketgate/marketgate/server/apperr"
	"github.com/marketgate/marketgate/server/awsmp"
	"github.com/marketgate/marketgate/store"
)

// AgreementViews reads a subscription's AWS agreement as the Agreement
// Service describes it (cached); *awsmp.Processor is one.
type AgreementViews interface {
	SubscriptionAgreement(ctx context.Context, subID uint, refresh bool) (*awsmp.SubscriptionAgreement, error)
}

type agreementQuery struct {
	Refresh bool `form:"refresh"` // read AWS again now instead of the cached view (kept 15 minutes)
}

// agreementPage is the agreement page of an AWS subscription: AWS's view of
// its current agreement (nil when none could be read yet), when it was
// read and why the last read failed, the agreements linked to it, and what
// the renewal events said.
type agreementPage struct {
	SubscriptionID uint                        `json:"subscription_id"`
	AgreementID    string                      `json:"agreement_id"` // "" when none is linked
	Agreement      *awsmp.AgreementDescription `json:"agreement"`
	ReadAt         *time.Time                  `json:"read_at"`
	Error          string                      `json:"error"`
	Linked         []string                    `json:"linked_agreements"`
	Renewal        *renewalView                `json:"renewal_events"`
}

// renewalView is what AWS's events said of an agreement's end and renewal.
type renewalView struct {
	AgreementID       string     `json:"agreement_id"`
	SubscriptionID    *uint      `json:"subscription_id"`
	SubscriptionName  string     `json:"subscription_name"`
	CustomerID        *uint      `json:"customer_id"`
	CustomerName      string     `json:"customer_name"`
	OfferName         string     `json:"offer_name"`
	State             string     `json:"state"`
	EndsAt            *time.Time `json:"ends_at"`
	DaysBeforeEnd     *int       `json:"days_before_end"`     // the latest Purchase Agreement Ending (180, 120, 90, 60, 30)
	AutoRenew         *bool      `json:"auto_renew"`          // nil: AWS has not said
	TurnedOffBy       string     `json:"turned_off_by"`       // buyer, seller or ""
	TurnedOffAt       *time.Time `json:"turned_off_at"`       // when
	LockoutAt         *time.Time `json:"lockout_at"`          // the buyer's renewal decision deadline
	RenewalUpcomingAt *time.Time `json:"renewal_upcoming_at"` // Purchase Agreement Renewal Upcoming
	TermsFinalizedAt  *time.Time `json:"terms_finalized_at"`  // Purchase Agreement Renewal Terms Finalized
	LastEventAt       *time.Time `json:"last_event_at"`
}

func viewRenewal(r *store.RenewalRow) renewalView {
	v := renewalView{AgreementID: r.AgreementID, SubscriptionID: r.SubscriptionID, SubscriptionName: r.SubscriptionName,
		CustomerID: r.CustomerID, CustomerName: r.CustomerName, OfferName: r.OfferName, State: r.State, EndsAt: r.EndsAt,
		DaysBeforeEnd: r.DaysBeforeEnd, TurnedOffBy: r.TurnedOffBy, TurnedOffAt: r.TurnedOffAt, LockoutAt: r.LockoutAt,
		RenewalUpcomingAt: r.RenewalUpcomingAt, TermsFinalizedAt: r.TermsFinalizedAt, LastEventAt: r.LastEventAt}
	if r.AutoRenew != "" {
		on := r.AutoRenew == "true"
		v.AutoRenew = &on
	}
	return v
}

// getSubscriptionAgreement answers GET /api/subscriptions/:id/agreement.
func (s *Server) getSubscriptionAgreement(c *gin.Context) (agreementPage, error) {
	sub, err := s.scopedSubscription(c)
	if err != nil {
		return agreementPage{}, err
	}
	if sub.Marketplace != "aws" {
		return agreementPage{}, apperr.New(apperr.NotFound, "subscription %d is not an AWS subscription: only AWS has agreements", sub.ID)
	}
	var q agreementQuery
	if err := c.ShouldBindQuery(&q); err != nil {
		return agreementPage{}, apperr.New(apperr.Invalid, "refresh must be true or false")
	}
	ctx := c.Request.Context()
	out := agreementPage{SubscriptionID: sub.ID, Linked: []string{}}
	if s.AWSAgreements == nil {
		out.Error = "AWS Marketplace is not configured: the agreement cannot be read"
		return out, nil
	}
	got, err := s.AWSAgreements.SubscriptionAgreement(ctx, sub.ID, q.Refresh)
	switch {
	case errors.Is(err, awsmp.ErrNoAgreement):
		out.Error = err.Error()
		return out, nil
	case err != nil:
		return agreementPage{}, err
	}
	out.AgreementID, out.Agreement, out.ReadAt, out.Error, out.Linked = got.AgreementID, got.Agreement, got.ReadAt, got.Error, got.Linked
	rows, err := s.Store.Reads(ctx).ListRenewals(store.RenewalFilter{AgreementID: got.AgreementID, Limit: 1})
	if err != nil {
		return agreementPage{}, err
	}
	if len(rows) == 1 {
		r := viewRenewal(&rows[0])
		out.Renewal = &r
	}
	return out, nil
}

type renewalsQuery struct {
	Window       int  `form:"window"`         // days from now the agreements end within (default 180; 0 with all=true: every one)
	All          bool `form:"all"`            // every renewal, ended ones included, whatever the window
	AutoRenewOff bool `form:"auto_renew_off"` // only those whose auto-renewal is off
}

// listRenewals answers GET /api/renewals: AWS agreements by end, soonest
// first, with whether they renew and who turned auto-renewal off.
func (s *Server) listRenewals(c *gin.Context) (list[renewalView], error) {
	p := params{c: c}
	window := p.intRange("window", 180, 1, 3660)
	all := p.oneOf("all", []string{"true", "false"}) == "true"
	off := p.oneOf("auto_renew_off", []string{"true", "false"}) == "true"
	if p.err != nil {
		return list[renewalView]{}, p.err
	}
	f := store.RenewalFilter{AutoRenewOff: off, Limit: 1000}
	if !all {
		from := s.Now().UTC().Truncate(24 * time.Hour)
		to := from.AddDate(0, 0, window+1)
		f.From, f.To = &from, &to
	}
	rows, err := s.Store.Reads(c.Request.Context()).ListRenewals(f)
	if err != nil {
		return list[renewalView]{}, err
	}
	out := make([]renewalView, 0, len(rows))
	for i := range rows {
		out = append(out, viewRenewal(&rows[i]))
	}
	return list[renewalView]{Items: out}, nil
}
