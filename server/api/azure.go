package api

import (
	"cmp"
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/marketgate/marketgate/server/apperr"
	"github.com/marketgate/marketgate/server/azuremp"
	"github.com/marketgate/marketgate/store"
)

// The seller's side of Microsoft's marketplace in the portal API: the
// plans a subscription may switch to, the seller's activation, plan, seat
// and cancellation changes (operations followed by server/azuremp) and
// reconciliation. The buyer's landing is in azure_landing.go, Microsoft's
// notifications in azure_notifications.go.

// azurePlans lists the plans a Microsoft subscription may switch to.
// azurePlan is a plan a Microsoft subscription may switch to.
type azurePlan struct {
	PlanID      string `json:"plan_id"`
	Name        string `json:"name"`
	PerSeat     bool   `json:"per_seat"`
	MinQuantity int    `json:"min_quantity"`
	MaxQuantity int    `json:"max_quantity"`
	Private     bool   `json:"private"`
}

type azurePlansAnswer struct {
	Plans []azurePlan `json:"plans"`
}

func (s *Server) azurePlans(c *gin.Context) (azurePlansAnswer, error) {
	sub, err := s.azureSubscription(c)
	if err != nil {
		return azurePlansAnswer{}, err
	}
	plans, err := s.Azure.AvailablePlans(c.Request.Context(), sub)
	if err != nil {
		return azurePlansAnswer{}, s.marketplaceError(c, err)
	}
	out := make([]azurePlan, 0, len(plans))
	for _, p := range plans {
		out = append(out, azurePlan{p.PlanID, cmp.Or(p.DisplayName, p.PlanID), p.IsPricePerSeat, int(p.MinQuantity), int(p.MaxQuantity), p.IsPrivate})
	}
	return azurePlansAnswer{Plans: out}, nil
}

func (s *Server) azureSubscription(c *gin.Context) (*store.Subscription, error) {
	if s.Azure == nil {
		return nil, apperr.New(apperr.NotFound, "Microsoft's marketplace is not configured")
	}
	id, err := strconv.ParseUint(c.Param("id"), 10, 32)
	if err != nil {
		return nil, apperr.New(apperr.Invalid, "subscription id must be a number")
	}
	sub, err := s.Azure.StoredSubscription(c.Request.Context(), uint(id))
	if err != nil {
		return nil, apperr.New(apperr.NotFound, "no Microsoft subscription %d", id)
	}
	return sub, nil
}

// marketplaceError is the client's error for a failed call to Microsoft.
func (s *Server) marketplaceError(c *gin.Context, err error) error {
	var ae *azuremp.APIError
	switch {
	case errors.Is(err, azuremp.ErrInvalidChange):
		return apperr.New(apperr.Invalid, "%s", strings.TrimPrefix(err.Error(), azuremp.ErrInvalidChange.Error()+": "))
	case errors.Is(err, azuremp.ErrOperationInProgress):
		return apperr.New(apperr.Conflict, "another change is still in progress at Microsoft; wait for it to finish")
	case errors.Is(err, azuremp.ErrNotPending):
		return apperr.New(apperr.Conflict, "the subscription is not waiting for activation")
	case errors.As(err, &ae):
		s.Log.Warn("microsoft marketplace error", "request_id", requestID(c), "status", ae.Status, "ms_request_id", ae.RequestID, "body", ae.Body)
		return apperr.New(apperr.Upstream, "Microsoft answered: %s", cmp.Or(ae.Message, http.StatusText(ae.Status)))
	default:
		s.Log.Error("microsoft marketplace unreachable", "request_id", requestID(c), "err", err)
		return apperr.New(apperr.Upstream, "Microsoft's marketplace is not answering; try again in a moment")
	}
}

// subscriptionAnswer is one subscription.
type subscriptionAnswer struct {
	Subscription subscriptionView `json:"subscription"`
}

// azureActivateSeller is the seller's approval of a pending subscription.
func (s *Server) azureActivateSeller(c *gin.Context) (subscriptionAnswer, error) {
	sub, err := s.azureSubscription(c)
	if err != nil {
		return subscriptionAnswer{}, err
	}
	u := currentUser(c)
	got, err := s.Azure.Activate(c.Request.Context(), sub.ID, u.Email, azuremp.SourcePortal)
	if err != nil {
		return subscriptionAnswer{}, s.marketplaceError(c, err)
	}
	s.audit(c, u, "azure.activate", "subscription", sub.ID, map[string]any{"state": sub.State}, map[string]any{"state": got.State})
	return subscriptionAnswer{Subscription: viewSubscription(got)}, nil
}

// azureChangeInput is a plan change, a quantity change or a cancellation.
type azureChangeInput struct {
	Action   string `json:"action"`
	PlanID   string `json:"plan_id"`
	Quantity int    `json:"quantity"`
}

type operationAnswer struct {
	Operation operationView `json:"operation"`
}

// azureChange starts a plan change, a quantity change or a cancellation.
func (s *Server) azureChange(c *gin.Context, in azureChangeInput) (operationAnswer, error) {
	sub, err := s.azureSubscription(c)
	if err != nil {
		return operationAnswer{}, err
	}
	u := currentUser(c)
	op, err := s.Azure.StartChange(c.Request.Context(), sub.ID, in.Action, strings.TrimSpace(in.PlanID), in.Quantity, u.Email)
	if err != nil {
		return operationAnswer{}, s.marketplaceError(c, err)
	}
	before := map[string]any{"state": sub.State, "quantity": sub.Quantity, "plan_id": ""}
	if sub.Plan != nil {
		before["plan_id"] = sub.Plan.PlanID
	}
	s.audit(c, u, "azure."+strings.ToLower(in.Action), "subscription", sub.ID, before, in)
	return operationAnswer{Operation: viewOperation(op)}, nil
}

type operationView struct {
	OperationID  string     `json:"operation_id"`
	Action       string     `json:"action"`
	Source       string     `json:"source"`
	PlanID       string     `json:"plan_id,omitempty"`
	Quantity     int        `json:"quantity,omitempty"`
	Status       string     `json:"status"`
	ErrorMessage string     `json:"error_message,omitempty"`
	RequestedBy  string     `json:"requested_by,omitempty"`
	CreatedAt    time.Time  `json:"created_at"`
	UpdatedAt    time.Time  `json:"updated_at"`
	FinishedAt   *time.Time `json:"finished_at"`
}

func viewOperation(o *store.AzureOperation) operationView {
	return operationView{o.OperationID, o.Action, o.Source, o.PlanID, o.Quantity, o.Status, o.ErrorMessage, o.RequestedBy,
		o.CreatedAt, o.UpdatedAt, o.FinishedAt}
}

type reconcileAnswer struct {
	Report azuremp.ReconcileReport `json:"report"`
}

// azureReconcile runs a reconciliation now.
func (s *Server) azureReconcile(c *gin.Context) (reconcileAnswer, error) {
	if s.Azure == nil {
		return reconcileAnswer{}, apperr.New(apperr.NotFound, "Microsoft's marketplace is not configured")
	}
	ctx, cancel := context.WithTimeout(c.Request.Context(), 5*time.Minute)
	defer cancel()
	rep, err := s.Azure.Reconcile(ctx, currentUser(c).Email)
	if err != nil {
		return reconcileAnswer{}, s.marketplaceError(c, err)
	}
	s.audit(c, currentUser(c), "azure.reconcile", "system", 0, nil, rep)
	return reconcileAnswer{Report: rep}, nil
}
