package store

import (
	"context"
	"time"
)

// AgreementRequest is a money action a seller's admin took on an AWS
// agreement through the Agreement Service (server/awsmp): a refund
// (billing adjustment request against an invoice), a cancellation request
// (the buyer has 7 days to answer) or a payment request against the
// agreement's variable-payment term. The row is written, with the
// ClientToken AWS deduplicates on, before AWS is called: a crash or a
// retry sends the same token again and never makes a second request.
type AgreementRequest struct {
	ID             uint `gorm:"primaryKey"`
	SubscriptionID uint
	CustomerID     *uint
	AgreementID    string
	Kind           string // refund, cancellation, payment
	ClientToken    string
	IdempotencyKey string
	ExternalID     string // AWS's id: ba-…, acr-…, pr-…
	Status         string // sending, pending, completed, approved, rejected, withdrawn, failed
	AWSStatus      string `gorm:"column:aws_status"`
	Amount         string
	Currency       string
	InvoiceID      string
	TermID         string
	ReasonCode     string
	Name           string
	Note           string
	StatusMessage  string
	ErrorCode      string
	Error          string
	ChargeID       string
	RequestedBy    string
	WithdrawnBy    string
	Attempts       int
	NextCheckAt    *time.Time
	RespondBy      *time.Time // a cancellation request: the end of the buyer's 7 days
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// TableName keeps gorm off its own pluralisation.
func (AgreementRequest) TableName() string { return "agreement_requests" }

// AgreementRequestEvent is one step of a request's status history.
type AgreementRequestEvent struct {
	ID        uint `gorm:"primaryKey"`
	RequestID uint
	Status    string
	AWSStatus string `gorm:"column:aws_status"`
	Message   string
	Actor     string
	Source    string // portal, poll, event
	At        time.Time
}

// TableName keeps gorm off its own pluralisation.
func (AgreementRequestEvent) TableName() string { return "agreement_request_events" }

// Agreement request kinds and statuses.
const (
	AgreementRefund       = "refund"
	AgreementCancellation = "cancellation"
	AgreementPayment      = "payment"

	RequestSending   = "sending"
	RequestPending   = "pending"
	RequestCompleted = "completed"
	RequestApproved  = "approved"
	RequestRejected  = "rejected"
	RequestWithdrawn = "withdrawn"
	RequestFailed    = "failed"
)

// CreateAgreementRequest stores a new request and its first history step;
// ErrConflict when its idempotency key was used already.
func (t *Tx) CreateAgreementRequest(r *AgreementRequest, actor string) error {
	return t.Savepoint(func(tx *Tx) error {
		if err := tx.db.Create(r).Error; err != nil {
			return err
		}
		return tx.db.Create(&AgreementRequestEvent{RequestID: r.ID, Status: r.Status, Actor: actor, Source: "portal", At: r.CreatedAt}).Error
	})
}

// AgreementRequestByKey returns a subscription's request of a kind and
// idempotency key.
func (t *Tx) AgreementRequestByKey(subID uint, kind, key string) (*AgreementRequest, error) {
	return t.firstAgreementRequest("subscription_id = ? AND kind = ? AND idempotency_key = ? AND idempotency_key <> ''", subID, kind, key)
}

// AgreementRequestByID returns a request of a subscription.
func (t *Tx) AgreementRequestByID(subID, id uint) (*AgreementRequest, error) {
	return t.firstAgreementRequest("subscription_id = ? AND id = ?", subID, id)
}

// AgreementRequestByExternalID returns the request AWS knows by an id.
func (t *Tx) AgreementRequestByExternalID(kind, externalID string) (*AgreementRequest, error) {
	return t.firstAgreementRequest("kind = ? AND external_id = ? AND external_id <> ''", kind, externalID)
}

// OpenAgreementRequest returns a subscription's request of a kind that is
// being sent or waits for an answer.
func (t *Tx) OpenAgreementRequest(subID uint, kind string) (*AgreementRequest, error) {
	return t.firstAgreementRequest("subscription_id = ? AND kind = ? AND status IN ('sending', 'pending')", subID, kind)
}

func (t *Tx) firstAgreementRequest(cond string, args ...any) (*AgreementRequest, error) {
	var r AgreementRequest
	if err := t.db.Where(cond, args...).Order("id DESC").Limit(1).Find(&r).Error; err != nil {
		return nil, err
	}
	if r.ID == 0 {
		return nil, ErrNotFound
	}
	return &r, nil
}

// UpdateAgreementRequest changes a request's fields; a new status (or AWS
// status) adds a history step. It reports whether the status changed.
func (t *Tx) UpdateAgreementRequest(r *AgreementRequest, fields map[string]any, actor, source, message string) (bool, error) {
	now := t.now()
	fields["updated_at"] = now
	if err := t.db.Model(&AgreementRequest{}).Where("id = ?", r.ID).Updates(fields).Error; err != nil {
		return false, err
	}
	status, _ := fields["status"].(string)
	aws, _ := fields["aws_status"].(string)
	changed := (status != "" && status != r.Status) || (aws != "" && aws != r.AWSStatus)
	if !changed {
		return false, nil
	}
	if status == "" {
		status = r.Status
	}
	err := t.db.Create(&AgreementRequestEvent{RequestID: r.ID, Status: status, AWSStatus: aws, Message: message, Actor: actor, Source: source, At: now}).Error
	return status != r.Status, err
}

// AgreementRequestFilter selects requests; CustomerID is a customer
// admin's scope (0: seller staff).
type AgreementRequestFilter struct {
	SubscriptionID uint
	CustomerID     uint
	Kind           string
	Limit          int
}

// ListAgreementRequests lists requests, newest first.
func (s *Store) ListAgreementRequests(ctx context.Context, f AgreementRequestFilter) ([]AgreementRequest, error) {
	q := s.Reads(ctx).db.Model(&AgreementRequest{})
	if f.SubscriptionID != 0 {
		q = q.Where("subscription_id = ?", f.SubscriptionID)
	}
	if f.CustomerID != 0 {
		q = q.Where("customer_id = ?", f.CustomerID)
	}
	if f.Kind != "" {
		q = q.Where("kind = ?", f.Kind)
	}
	limit := f.Limit
	if limit <= 0 || limit > 500 {
		limit = 200
	}
	var rows []AgreementRequest
	err := q.Order("created_at DESC, id DESC").Limit(limit).Find(&rows).Error
	return rows, err
}

// AgreementRequestHistory returns the steps of the given requests, oldest
// first, keyed by request.
func (s *Store) AgreementRequestHistory(ctx context.Context, ids []uint) (map[uint][]AgreementRequestEvent, error) {
	out := map[uint][]AgreementRequestEvent{}
	if len(ids) == 0 {
		return out, nil
	}
	var rows []AgreementRequestEvent
	if err := s.Reads(ctx).db.Where("request_id IN ?", ids).Order("at, id").Find(&rows).Error; err != nil {
		return nil, err
	}
	for _, e := range rows {
		out[e.RequestID] = append(out[e.RequestID], e)
	}
	return out, nil
}

// AgreementRequestsDue returns requests being sent or waiting for AWS
// whose next check is due.
func (s *Store) AgreementRequestsDue(ctx context.Context, now time.Time, limit int) ([]AgreementRequest, error) {
	var rows []AgreementRequest
	err := s.Reads(ctx).db.Where("status IN ('sending', 'pending') AND (next_check_at IS NULL OR next_check_at <= ?)", now).
		Order("next_check_at, id").Limit(limit).Find(&rows).Error
	return rows, err
}
