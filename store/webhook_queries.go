package store

import (
	"context"
	"time"

	"gorm.io/gorm"
)

// The outbox of the seller's webhooks: events written in the same
// transaction as the change that causes them, one delivery per endpoint
// that listens, claimed under a lease by the dispatcher and settled with
// the endpoint's health (server/webhooks).

// WebhookListeners returns the enabled endpoints (their id and event
// types only); with only != 0, just that endpoint when it is enabled.
func (t *Tx) WebhookListeners(only uint) ([]WebhookEndpoint, error) {
	var eps []WebhookEndpoint
	q := t.db.Select("id", "event_types").Where("enabled")
	if only != 0 {
		q = q.Where("id = ?", only)
	}
	return eps, q.Find(&eps).Error
}

// EnqueueEvent writes an event to the outbox and one pending delivery of
// it to each endpoint, due at the event's CreatedAt. Deliveries with the
// same orderKey reach an endpoint in order ("" = no order).
func (t *Tx) EnqueueEvent(ev *Event, endpointIDs []uint, orderKey string) error {
	if err := t.db.Create(ev).Error; err != nil {
		return err
	}
	if len(endpointIDs) == 0 {
		return nil // kept for the events feed only
	}
	ds := make([]WebhookDelivery, len(endpointIDs))
	for i, id := range endpointIDs {
		ds[i] = WebhookDelivery{EndpointID: id, EventID: ev.ID, OrderKey: orderKey, Status: DeliveryPending,
			NextAttemptAt: ev.CreatedAt, CreatedAt: ev.CreatedAt}
	}
	return t.db.Create(&ds).Error
}

// SubscriptionForEvent reads a subscription with its plan, offer and
// customer: what an event about it carries.
func (t *Tx) SubscriptionForEvent(id uint) (*Subscription, error) {
	var s Subscription
	if err := t.db.Preload("Plan").Preload("Offer").Preload("Customer").First(&s, id).Error; err != nil {
		return nil, notFound(err)
	}
	return &s, nil
}

// ClaimedDelivery is a delivery the dispatcher holds a lease on, with
// where it goes.
type ClaimedDelivery struct {
	WebhookDelivery
	URL    string
	Secret string
}

// ClaimDeliveries leases to owner, until now+lease, up to limit deliveries
// that are due and whose endpoint is enabled — only the oldest waiting
// one of each order key per endpoint, so that an endpoint sees one
// subscription's events in order. A delivery another owner claimed
// meanwhile is left out.
func (s *Store) ClaimDeliveries(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int) ([]ClaimedDelivery, error) {
	db := s.w.WithContext(ctx)
	var due []ClaimedDelivery
	err := db.Table("webhook_deliveries d").
		Select("d.*, e.url, e.secret").
		Joins("JOIN webhook_endpoints e ON e.id = d.endpoint_id AND e.enabled").
		Where("d.status = ? AND d.next_attempt_at <= ? AND (d.lease_until IS NULL OR d.lease_until < ?)", DeliveryPending, now, now).
		Where(`(d.order_key = '' OR NOT EXISTS (SELECT 1 FROM webhook_deliveries p WHERE p.endpoint_id = d.endpoint_id
			AND p.order_key = d.order_key AND p.status = ? AND p.id < d.id))`, DeliveryPending).
		Order("d.id").Limit(limit).Scan(&due).Error
	if err != nil {
		return nil, err
	}
	var mine []ClaimedDelivery
	for _, c := range due {
		r := db.Model(&WebhookDelivery{}).
			Where("id = ? AND status = ? AND (lease_until IS NULL OR lease_until < ?)", c.ID, DeliveryPending, now).
			Updates(map[string]any{"lease_owner": owner, "lease_until": now.Add(lease)})
		if r.Error != nil {
			return nil, r.Error
		}
		if r.RowsAffected == 1 {
			mine = append(mine, c)
		}
	}
	return mine, nil
}

// OutboxEvent reads an outbox event by its row id.
func (s *Store) OutboxEvent(ctx context.Context, id uint) (*Event, error) {
	var ev Event
	if err := s.w.WithContext(ctx).First(&ev, id).Error; err != nil {
		return nil, notFound(err)
	}
	return &ev, nil
}

// DeliveryAttempt is the outcome of one attempt to deliver.
type DeliveryAttempt struct {
	At             time.Time
	ResponseStatus int
	Excerpt        string
	Error          string
	RequestHeaders string // JSON
	// Status is DeliverySucceeded or DeliveryFailed when the delivery is
	// over, "" when it is tried again at NextAttemptAt.
	Status        string
	NextAttemptAt time.Time
}

// SettleDelivery records an attempt on a delivery leased by owner and
// releases the lease. It reports false, writing nothing, when the lease
// ran out and another owner took the delivery.
func (t *Tx) SettleDelivery(id uint, owner string, a DeliveryAttempt) (bool, error) {
	upd := map[string]any{"attempts": gorm.Expr("attempts + 1"), "last_attempt_at": a.At, "response_status": a.ResponseStatus,
		"response_excerpt": a.Excerpt, "error": a.Error, "lease_owner": "", "lease_until": nil, "request_headers": a.RequestHeaders}
	switch a.Status {
	case DeliverySucceeded:
		upd["status"], upd["delivered_at"] = DeliverySucceeded, a.At
	case DeliveryFailed:
		upd["status"] = DeliveryFailed
	default:
		upd["next_attempt_at"] = a.NextAttemptAt
	}
	r := t.db.Model(&WebhookDelivery{}).Where("id = ? AND lease_owner = ?", id, owner).Updates(upd)
	return r.RowsAffected > 0, r.Error
}

// WebhookEndpointByID reads an endpoint.
func (t *Tx) WebhookEndpointByID(id uint) (*WebhookEndpoint, error) {
	var ep WebhookEndpoint
	if err := t.db.First(&ep, id).Error; err != nil {
		return nil, notFound(err)
	}
	return &ep, nil
}

// WebhookEndpointSucceeded records that an endpoint accepted a delivery:
// its failure streak ends.
func (t *Tx) WebhookEndpointSucceeded(id uint, at time.Time) error {
	return t.db.Model(&WebhookEndpoint{}).Where("id = ?", id).
		Updates(map[string]any{"consecutive_failures": 0, "failing_since": nil, "last_success_at": at}).Error
}

// WebhookEndpointFailed records an endpoint's failure streak (failures in
// a row, failing since); with disabledReason != "" the endpoint is
// disabled at at for that reason.
func (t *Tx) WebhookEndpointFailed(id uint, failures int, since, at time.Time, disabledReason string) error {
	set := map[string]any{"consecutive_failures": failures, "failing_since": since}
	if disabledReason != "" {
		set["enabled"], set["disabled_reason"], set["disabled_at"] = false, disabledReason, at
	}
	set["updated_at"] = at
	return t.db.Model(&WebhookEndpoint{}).Where("id = ?", id).Updates(set).Error
}

// RedeliverWebhook makes a delivery of an endpoint due at now again
// (same event, same webhook-id). A delivery not of that endpoint is
// ErrNotFound.
func (s *Store) RedeliverWebhook(ctx context.Context, endpointID, deliveryID uint, now time.Time) error {
	r := s.w.WithContext(ctx).Model(&WebhookDelivery{}).Where("id = ? AND endpoint_id = ?", deliveryID, endpointID).
		Updates(map[string]any{"status": DeliveryPending, "next_attempt_at": now, "lease_owner": "", "lease_until": nil, "delivered_at": nil})
	if r.Error != nil {
		return r.Error
	}
	if r.RowsAffected == 0 {
		return ErrNotFound
	}
	return nil
}

// PruneWebhookOutbox deletes finished deliveries created before before,
// then the events of that age no delivery refers to.
func (s *Store) PruneWebhookOutbox(ctx context.Context, before time.Time) error {
	db := s.w.WithContext(ctx)
	if err := db.Where("status <> ? AND created_at < ?", DeliveryPending, before).Delete(&WebhookDelivery{}).Error; err != nil {
		return err
	}
	return db.Where("created_at < ? AND NOT EXISTS (SELECT 1 FROM webhook_deliveries w WHERE w.event_id = events.id)", before).
		Delete(&Event{}).Error
}

// LatestDeliveryID is the id of an endpoint's newest delivery (0: none).
func (t *Tx) LatestDeliveryID(endpointID uint) (uint, error) {
	var ids []uint
	err := t.db.Model(&WebhookDelivery{}).Where("endpoint_id = ?", endpointID).Order("id DESC").Limit(1).Pluck("id", &ids).Error
	if err != nil || len(ids) == 0 {
		return 0, err
	}
	return ids[0], nil
}

// EventsAfter lists outbound events with a row id above after, in id order,
// at most limit, created at or before visibleBefore (the pull feed of
// events: an id is assigned at insert, so on a database with concurrent
// writers a later id may commit before an earlier one; holding back the
// newest seconds keeps a reader from stepping past an event that commits
// late).
func (s *Store) EventsAfter(ctx context.Context, after uint, limit int, visibleBefore time.Time) ([]Event, error) {
	var out []Event
	err := s.r.WithContext(ctx).Where("id > ? AND created_at <= ?", after, visibleBefore).Order("id").Limit(limit).Find(&out).Error
	return out, err
}
