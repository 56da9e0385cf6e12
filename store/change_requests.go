package store

import (
	"context"
	"time"
)

// ChangeRequest is a change a customer admin asked for from the customer
// portal (server/changes): performed at once (performing, then performed
// or failed), or waiting for the seller (pending) until approved or
// declined.
type ChangeRequest struct {
	ID             uint `gorm:"primaryKey"`
	SubscriptionID uint
	CustomerID     uint
	Marketplace    string
	Kind           string // plan, seats, unsubscribe
	PlanID         string // the marketplace's plan id (plan changes)
	Quantity       int    // the new seat count (seat changes)
	Note           string // the customer's note
	Status         string // pending, performing, performed, approved, declined, failed
	IdempotencyKey string
	RequestedBy    string
	DecidedBy      string
	DecidedAt      *time.Time
	Answer         string // the seller's reason (declined) or note (approved)
	OperationID    string // the Microsoft operation that performs it
	Error          string // why performing it failed
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// TableName keeps gorm off its own pluralisation.
func (ChangeRequest) TableName() string { return "change_requests" }

// Change request statuses.
const (
	ChangePending    = "pending"
	ChangePerforming = "performing"
	ChangePerformed  = "performed"
	ChangeApproved   = "approved"
	ChangeDeclined   = "declined"
	ChangeFailed     = "failed"
)

// ChangeRequestFilter selects change requests. CustomerID is a customer
// admin's scope (0: seller staff, every customer).
type ChangeRequestFilter struct {
	CustomerID     uint
	SubscriptionID uint
	Status         string
	Marketplace    string
	Limit          int
}

// ChangeRequestRow is a listed change request with the names the seller
// sees beside it.
type ChangeRequestRow struct {
	ChangeRequest
	SubscriptionName string
	CustomerName     string
	CurrentPlanID    string
}

// CreateChangeRequest stores a new request; ErrConflict when its
// subscription has an open request of its kind, or a request of its
// idempotency key, already.
func (t *Tx) CreateChangeRequest(r *ChangeRequest) error {
	return t.Savepoint(func(tx *Tx) error { return tx.db.Create(r).Error })
}

// ChangeRequestByKey returns a subscription's request of an idempotency key.
func (t *Tx) ChangeRequestByKey(subID uint, key string) (*ChangeRequest, error) {
	return t.firstChangeRequest("subscription_id = ? AND idempotency_key = ? AND idempotency_key <> ''", subID, key)
}

// OpenChangeRequest returns a subscription's pending or running request of
// a kind.
func (t *Tx) OpenChangeRequest(subID uint, kind string) (*ChangeRequest, error) {
	return t.firstChangeRequest("subscription_id = ? AND kind = ? AND status IN ('pending', 'performing')", subID, kind)
}

// ChangeRequestByID returns a request; with customerID non-zero, only one
// of that customer's (ErrNotFound otherwise).
func (t *Tx) ChangeRequestByID(id, customerID uint) (*ChangeRequest, error) {
	if customerID != 0 {
		return t.firstChangeRequest("id = ? AND customer_id = ?", id, customerID)
	}
	return t.firstChangeRequest("id = ?", id)
}

func (t *Tx) firstChangeRequest(cond string, args ...any) (*ChangeRequest, error) {
	var r ChangeRequest
	if err := t.db.Where(cond, args...).Order("id DESC").Limit(1).Find(&r).Error; err != nil {
		return nil, err
	}
	if r.ID == 0 {
		return nil, ErrNotFound
	}
	return &r, nil
}

// MoveChangeRequest changes a request's status from one to another with
// the given fields; false when it was not in that status (someone else
// moved it first).
func (t *Tx) MoveChangeRequest(id uint, from, to string, fields map[string]any) (bool, error) {
	changes := map[string]any{"status": to, "updated_at": t.now()}
	for k, v := range fields {
		changes[k] = v
	}
	res := t.db.Model(&ChangeRequest{}).Where("id = ? AND status = ?", id, from).Updates(changes)
	return res.RowsAffected == 1, res.Error
}

// ListChangeRequests lists requests, newest first.
func (s *Store) ListChangeRequests(ctx context.Context, f ChangeRequestFilter) ([]ChangeRequestRow, error) {
	q := s.Reads(ctx).db.Table("change_requests AS r").
		Select("r.*, s.name AS subscription_name, c.name AS customer_name, COALESCE(p.plan_id, '') AS current_plan_id").
		Joins("JOIN subscriptions s ON s.id = r.subscription_id").
		Joins("JOIN customers c ON c.id = r.customer_id").
		Joins("LEFT JOIN plans p ON p.id = s.plan_id")
	if f.CustomerID != 0 {
		q = q.Where("r.customer_id = ?", f.CustomerID)
	}
	if f.SubscriptionID != 0 {
		q = q.Where("r.subscription_id = ?", f.SubscriptionID)
	}
	if f.Status != "" {
		q = q.Where("r.status = ?", f.Status)
	}
	if f.Marketplace != "" {
		q = q.Where("r.marketplace = ?", f.Marketplace)
	}
	limit := f.Limit
	if limit <= 0 || limit > 500 {
		limit = 200
	}
	var rows []ChangeRequestRow
	err := q.Order("r.created_at DESC, r.id DESC").Limit(limit).Scan(&rows).Error
	return rows, err
}

// AzureOperationsByID returns the Microsoft operations of the given ids,
// keyed by operation id.
func (s *Store) AzureOperationsByID(ctx context.Context, ids []string) (map[string]AzureOperation, error) {
	out := map[string]AzureOperation{}
	if len(ids) == 0 {
		return out, nil
	}
	var ops []AzureOperation
	if err := s.Reads(ctx).db.Where("operation_id IN ?", ids).Find(&ops).Error; err != nil {
		return nil, err
	}
	for _, o := range ops {
		out[o.OperationID] = o
	}
	return out, nil
}
