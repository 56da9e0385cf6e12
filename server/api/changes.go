package api

import (
	"cmp"
	"errors"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/marketgate/marketgate/server/apperr"
	"github.com/marketgate/marketgate/server/azuremp"
	"github.com/marketgate/marketgate/server/changes"
	"github.com/marketgate/marketgate/server/views"
	"github.com/marketgate/marketgate/store"
)

// Customer-initiated changes (server/changes): a customer admin changes
// the plan or the seat count of a subscription, or unsubscribes, within
// the policy the seller sets per plan; changes that need the seller's
// approval wait in the seller's queue (/api/change-requests).

// changeService is the changes service over this server's store and
// Microsoft processor.
func (s *Server) changeService() *changes.Service {
	svc := &changes.Service{Store: s.Store}
	if s.Azure != nil {
		svc.Azure = s.Azure
	}
	return svc
}

// changeKindView is what happens when the customer asks for one kind of
// change now.
type changeKindView struct {
	Kind    string `json:"kind" enum:"plan,seats,unsubscribe"`
	Policy  string `json:"policy" enum:"allowed,approval,not_allowed"`
	Outcome string `json:"outcome" enum:"perform,request,refuse"`
	// Reason (refused): policy, not_active, not_seat_based, unknown_kind,
	// marketplace, no_other_plans, unsubscribe_aws.
	Reason string `json:"reason,omitempty"`
}

// changePlanView is a plan the subscription may switch to (Microsoft's
// list; current marks the plan it is on).
type changePlanView struct {
	PlanID      string `json:"plan_id"`
	Name        string `json:"name"`
	PerSeat     bool   `json:"per_seat"`
	MinQuantity int    `json:"min_quantity"`
	MaxQuantity int    `json:"max_quantity"`
	Current     bool   `json:"current"`
}

// changeRequestView is a change request with the operation that performs
// it (Microsoft) and the names the seller sees beside it.
type changeRequestView struct {
	views.ChangeRequest
	SubscriptionName string         `json:"subscription_name"`
	CustomerName     string         `json:"customer_name"`
	CurrentPlanID    string         `json:"current_plan_id"`
	Operation        *operationView `json:"operation"`
}

// changeOptionsAnswer is what a customer admin may change of a
// subscription now, and their requests.
type changeOptionsAnswer struct {
	SubscriptionID uint             `json:"subscription_id"`
	Marketplace    string           `json:"marketplace" enum:"aws,azure"`
	State          string           `json:"state"`
	PlanID         string           `json:"plan_id"`
	PlanName       string           `json:"plan_name"`
	SeatBased      bool             `json:"seat_based"`
	Quantity       int              `json:"quantity"`
	Contract       bool             `json:"contract"` // AWS: a contract (upgrade in the console)
	Kinds          []changeKindView `json:"kinds"`
	Plans          []changePlanView `json:"plans"`
	// PlansUnavailable: Microsoft could not be asked for its plans now.
	PlansUnavailable bool                `json:"plans_unavailable"`
	MinQuantity      int                 `json:"min_quantity"`
	MaxQuantity      int                 `json:"max_quantity"`
	Requests         []changeRequestView `json:"requests"`
}

// myChanges answers what the customer admin may change of their
// subscription now, with their pending requests and recent history.
func (s *Server) myChanges(c *gin.Context) (changeOptionsAnswer, error) {
	sub, err := s.scopedSubscription(c)
	if err != nil {
		return changeOptionsAnswer{}, err
	}
	ctx := c.Request.Context()
	opts := s.changeService().Options(ctx, sub)
	out := changeOptionsAnswer{SubscriptionID: sub.ID, Marketplace: sub.Marketplace, State: sub.State, Quantity: sub.Quantity,
		Plans: []changePlanView{}, Kinds: []changeKindView{}, MinQuantity: opts.Limits.Min, MaxQuantity: opts.Limits.Max,
		PlansUnavailable: opts.PlansErr != nil}
	if sub.Plan != nil {
		out.PlanID, out.PlanName, out.SeatBased = sub.Plan.PlanID, sub.Plan.Name, sub.Plan.SeatBased
	}
	if sub.Offer != nil {
		out.Contract = sub.Offer.Contract
	}
	for _, k := range changes.Kinds {
		d := opts.Decisions[k]
		out.Kinds = append(out.Kinds, changeKindView{Kind: k, Policy: changes.PolicyFor(sub.Plan, k), Outcome: d.Outcome, Reason: d.Reason})
	}
	for _, p := range opts.Plans {
		if p.IsStopSell {
			continue
		}
		out.Plans = append(out.Plans, changePlanView{PlanID: p.PlanID, Name: cmp.Or(p.DisplayName, p.PlanID), PerSeat: p.IsPricePerSeat,
			MinQuantity: int(p.MinQuantity), MaxQuantity: int(p.MaxQuantity), Current: p.PlanID == out.PlanID})
	}
	if opts.PlansErr != nil {
		s.Log.Warn("microsoft plans for a customer", "request_id", requestID(c), "subscription", sub.ID, "err", opts.PlansErr)
	}
	out.Requests, err = s.changeRequestViews(c, store.ChangeRequestFilter{CustomerID: customerScope(currentUser(c)), SubscriptionID: sub.ID, Limit: 20})
	return out, err
}

// changeRequestViews lists requests with their operations; customer
// admins do not see which of the seller's staff answered.
func (s *Server) changeRequestViews(c *gin.Context, f store.ChangeRequestFilter) ([]changeRequestView, error) {
	ctx := c.Request.Context()
	rows, err := s.Store.ListChangeRequests(ctx, f)
	if err != nil {
		return nil, err
	}
	ids := []string{}
	for _, r := range rows {
		if r.OperationID != "" {
			ids = append(ids, r.OperationID)
		}
	}
	ops, err := s.Store.AzureOperationsByID(ctx, ids)
	if err != nil {
		return nil, err
	}
	customer := customerScope(currentUser(c)) != 0
	out := make([]changeRequestView, 0, len(rows))
	for i := range rows {
		v := changeRequestView{ChangeRequest: views.ChangeRequestOf(&rows[i].ChangeRequest), SubscriptionName: rows[i].SubscriptionName,
			CustomerName: rows[i].CustomerName, CurrentPlanID: rows[i].CurrentPlanID}
		if op, ok := ops[rows[i].OperationID]; ok {
			ov := viewOperation(&op)
			v.Operation = &ov
		}
		if customer {
			v.DecidedBy = ""
			if v.Operation != nil {
				v.Operation.RequestedBy = ""
			}
		}
		out = append(out, v)
	}
	return out, nil
}

// changeInput is a change a customer admin asks for.
type changeInput struct {
	Kind     string `json:"kind" enum:"plan,seats,unsubscribe"`
	PlanID   string `json:"plan_id,omitempty"`
	Quantity int    `json:"quantity,omitempty"`
	Note     string `json:"note,omitempty"`
}

// changeAnswer is a submitted change: performed (202, with Microsoft's
// operation) or requested (201, waiting for the seller).
type changeAnswer struct {
	Outcome   string            `json:"outcome" enum:"perform,request"`
	Request   changeRequestView `json:"request"`
	Operation *operationView    `json:"operation"`
	// Existing: the same change was submitted before; nothing new started.
	Existing bool `json:"existing"`
}

// submitMyChange asks for a change of the customer admin's subscription.
func (s *Server) submitMyChange(c *gin.Context, in changeInput) (changeAnswer, error) {
	sub, err := s.scopedSubscription(c)
	if err != nil {
		return changeAnswer{}, err
	}
	u := currentUser(c)
	key := strings.TrimSpace(c.GetHeader("Idempotency-Key"))
	if len(key) > 128 {
		return changeAnswer{}, apperr.New(apperr.Invalid, "the Idempotency-Key header is longer than 128 characters")
	}
	res, err := s.changeService().Submit(c.Request.Context(), sub, changes.Input{Kind: in.Kind, PlanID: in.PlanID, Quantity: in.Quantity,
		Note: in.Note, IdempotencyKey: key, Actor: u.Email})
	if err != nil {
		return changeAnswer{}, s.changeError(c, err)
	}
	if !res.Existing {
		s.audit(c, u, "change_request."+res.Request.Kind, "subscription", sub.ID, nil, views.ChangeRequestOf(res.Request))
	}
	out := changeAnswerOf(c, res)
	if out.Outcome == changes.Perform {
		setStatus(c, http.StatusAccepted)
	}
	return out, nil
}

// changeAnswerOf is a result's answer: performed when Microsoft was asked
// (or is being asked), requested when it waits for (or was answered by)
// the seller.
func changeAnswerOf(c *gin.Context, res changes.Result) changeAnswer {
	out := changeAnswer{Outcome: changes.Request, Existing: res.Existing,
		Request: changeRequestView{ChangeRequest: views.ChangeRequestOf(res.Request)}}
	if res.Operation != nil {
		ov := viewOperation(res.Operation)
		out.Operation = &ov
	}
	switch res.Request.Status {
	case store.ChangePerforming, store.ChangePerformed, store.ChangeFailed:
		out.Outcome = changes.Perform
	}
	if customerScope(currentUser(c)) != 0 {
		out.Request.DecidedBy = ""
		if out.Operation != nil {
			out.Operation.RequestedBy = ""
		}
	}
	return out
}

// changeError is the client's error for a change that could not be made.
func (s *Server) changeError(c *gin.Context, err error) error {
	var refused *changes.RefusedError
	switch {
	case errors.As(err, &refused):
		return apperr.New(apperr.ChangeNotAllowed, "%s", refusalMessage(refused.Reason))
	case errors.Is(err, changes.ErrInvalid):
		return apperr.New(apperr.Invalid, "%s", strings.TrimPrefix(err.Error(), changes.ErrInvalid.Error()+": "))
	case errors.Is(err, changes.ErrOpen):
		return apperr.New(apperr.Conflict, "a request of this kind is already open for this subscription; wait for its answer")
	case errors.Is(err, changes.ErrNotPending):
		return apperr.New(apperr.Conflict, "this request was answered already")
	case errors.Is(err, store.ErrNotFound):
		return apperr.New(apperr.NotFound, "no such change request")
	case errors.Is(err, azuremp.ErrInvalidChange), errors.Is(err, azuremp.ErrOperationInProgress), errors.Is(err, azuremp.ErrNotPending):
		return s.marketplaceError(c, err)
	}
	var ae *azuremp.APIError
	if errors.As(err, &ae) {
		return s.marketplaceError(c, err)
	}
	if strings.Contains(err.Error(), "not configured") {
		return apperr.New(apperr.Unavailable, "Microsoft's marketplace is not configured")
	}
	return s.marketplaceError(c, err)
}

// refusalMessage says why a change is refused, for people.
func refusalMessage(reason string) string {
	switch reason {
	case changes.ReasonPolicy:
		return "the seller does not let customers make this change from the portal; contact the seller"
	case changes.ReasonNotActive:
		return "the subscription is not active, so it cannot be changed now"
	case changes.ReasonNotSeatBased:
		return "this plan is not priced per user: there is no seat count to change"
	case changes.ReasonNoOtherPlans:
		return "Microsoft offers no other plan for this subscription"
	case changes.ReasonAWSEnded:
		return "cancel an AWS subscription in the AWS Marketplace console (Manage subscriptions)"
	case changes.ReasonUnknownKind:
		return "kind must be plan, seats or unsubscribe"
	}
	return "this change is not possible for this subscription"
}

// changeRequestsQuery filters the seller's queue.
type changeRequestsQuery struct {
	Status      string `form:"status" enum:"pending,performing,performed,approved,declined,failed"`
	Marketplace string `form:"marketplace" enum:"aws,azure"`
}

// listChangeRequests is the seller's queue of change requests.
func (s *Server) listChangeRequests(c *gin.Context) (list[changeRequestView], error) {
	f := store.ChangeRequestFilter{Status: c.Query("status"), Marketplace: c.Query("marketplace"), Limit: 200}
	if f.Status != "" && !oneOf(f.Status, []string{store.ChangePending, store.ChangePerforming, store.ChangePerformed, store.ChangeApproved,
		store.ChangeDeclined, store.ChangeFailed}) {
		return list[changeRequestView]{}, apperr.New(apperr.Invalid, "status: pending, performing, performed, approved, declined or failed")
	}
	if f.Marketplace != "" && f.Marketplace != "aws" && f.Marketplace != "azure" {
		return list[changeRequestView]{}, apperr.New(apperr.Invalid, "marketplace: aws or azure")
	}
	items, err := s.changeRequestViews(c, f)
	return list[changeRequestView]{Items: items}, err
}

// changeDecisionInput is the seller's answer: a note (approve) or the
// reason the customer sees (decline).
type changeDecisionInput struct {
	Note   string `json:"note,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// approveChangeRequest performs a pending request (Microsoft) or tells the
// AWS buyer a private offer follows.
func (s *Server) approveChangeRequest(c *gin.Context, in changeDecisionInput) (changeAnswer, error) {
	id, err := idParam(c, "id")
	if err != nil {
		return changeAnswer{}, err
	}
	u := currentUser(c)
	res, err := s.changeService().Approve(c.Request.Context(), id, u.Email, in.Note)
	if err != nil {
		return changeAnswer{}, s.changeError(c, err)
	}
	s.audit(c, u, "change_request.approve", "subscription", res.Request.SubscriptionID, nil, views.ChangeRequestOf(res.Request))
	return changeAnswerOf(c, res), nil
}

// declineChangeRequest answers a pending request with a reason.
func (s *Server) declineChangeRequest(c *gin.Context, in changeDecisionInput) (changeAnswer, error) {
	id, err := idParam(c, "id")
	if err != nil {
		return changeAnswer{}, err
	}
	u := currentUser(c)
	res, err := s.changeService().Decline(c.Request.Context(), id, u.Email, cmp.Or(in.Reason, in.Note))
	if err != nil {
		return changeAnswer{}, s.changeError(c, err)
	}
	s.audit(c, u, "change_request.decline", "subscription", res.Request.SubscriptionID, nil, views.ChangeRequestOf(res.Request))
	return changeAnswerOf(c, res), nil
}
