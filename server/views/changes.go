package views

import (
	"time"

	"github.com/marketgate/marketgate/store"
)

// ChangeRequest is a change a customer admin asked for from the customer
// portal (plan, seats, unsubscribe), as the portal API answers it and the
// change_request.* webhook events carry it.
type ChangeRequest struct {
	ID             uint       `json:"id"`
	SubscriptionID uint       `json:"subscription_id"`
	Marketplace    string     `json:"marketplace" enum:"aws,azure"`
	Kind           string     `json:"kind" enum:"plan,seats,unsubscribe"`
	PlanID         string     `json:"plan_id"`
	Quantity       int        `json:"quantity"`
	Note           string     `json:"note"`
	Status         string     `json:"status" enum:"pending,performing,performed,approved,declined,failed"`
	RequestedBy    string     `json:"requested_by"`
	DecidedBy      string     `json:"decided_by"`
	DecidedAt      *time.Time `json:"decided_at"`
	Answer         string     `json:"answer"` // the seller's reason (declined) or note (approved)
	OperationID    string     `json:"operation_id"`
	Error          string     `json:"error"`
	CreatedAt      time.Time  `json:"created_at"`
	UpdatedAt      time.Time  `json:"updated_at"`
}

// ChangeRequestOf is a stored change request's shape.
func ChangeRequestOf(r *store.ChangeRequest) ChangeRequest {
	return ChangeRequest{ID: r.ID, SubscriptionID: r.SubscriptionID, Marketplace: r.Marketplace, Kind: r.Kind, PlanID: r.PlanID,
		Quantity: r.Quantity, Note: r.Note, Status: r.Status, RequestedBy: r.RequestedBy, DecidedBy: r.DecidedBy, DecidedAt: r.DecidedAt,
		Answer: r.Answer, OperationID: r.OperationID, Error: r.Error, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}
