package store

import (
	"context"
	"time"

	"gorm.io/gorm"
)

// Queries of the seller's outbound webhook endpoints and their deliveries
// as the portal manages them (the dispatcher's own are in server/webhooks).

// ListWebhookEndpoints lists the endpoints in the order they were made.
func (s *Store) ListWebhookEndpoints(ctx context.Context) ([]WebhookEndpoint, error) {
	eps := []WebhookEndpoint{}
	return eps, s.r.WithContext(ctx).Order("id").Find(&eps).Error
}

// CountWebhookDeliveries counts an endpoint's pending and failed deliveries.
func (s *Store) CountWebhookDeliveries(ctx context.Context, endpointID uint) (pending, failed int64, err error) {
	db := s.r.WithContext(ctx).Model(&WebhookDelivery{})
	if err = db.Session(&gorm.Session{}).Where("endpoint_id = ? AND status = ?", endpointID, DeliveryPending).Count(&pending).Error; err != nil {
		return 0, 0, err
	}
	err = db.Session(&gorm.Session{}).Where("endpoint_id = ? AND status = ?", endpointID, DeliveryFailed).Count(&failed).Error
	return pending, failed, err
}

// CreateWebhookEndpoint stores a new endpoint.
func (s *Store) CreateWebhookEndpoint(ctx context.Context, ep *WebhookEndpoint) error {
	return s.w.WithContext(ctx).Create(ep).Error
}

// UpdateWebhookEndpoint writes changes (column → value) to an endpoint;
// with resumeAt set, its pending deliveries are due again at that time (an
// endpoint enabled again starts afresh).
func (s *Store) UpdateWebhookEndpoint(ctx context.Context, id uint, changes map[string]any, resumeAt *time.Time) error {
	db := s.w.WithContext(ctx)
	if resumeAt != nil {
		if err := db.Model(&WebhookDelivery{}).Where("endpoint_id = ? AND status = ?", id, DeliveryPending).
			Update("next_attempt_at", *resumeAt).Error; err != nil {
			return err
		}
	}
	return db.Model(&WebhookEndpoint{}).Where("id = ?", id).Updates(changes).Error
}

// DeleteWebhookEndpoint removes an endpoint (its deliveries go with it).
func (s *Store) DeleteWebhookEndpoint(ctx context.Context, id uint) error {
	return s.w.WithContext(ctx).Delete(&WebhookEndpoint{}, id).Error
}

// WebhookDeliveryFilter selects an endpoint's deliveries.
type WebhookDeliveryFilter struct {
	EndpointID    uint
	Status        string // empty: any
	Limit, Offset int
}

// ListWebhookDeliveries lists an endpoint's deliveries, newest first, with
// their events, counting the selection up to ListCountCap (an endpoint
// keeps 30 days of events: millions for a busy seller).
func (s *Store) ListWebhookDeliveries(ctx context.Context, f WebhookDeliveryFilter) (Page[WebhookDelivery], map[uint]*Event, error) {
	db := s.r.WithContext(ctx)
	q := db.Model(&WebhookDelivery{}).Where("endpoint_id = ?", f.EndpointID)
	if f.Status != "" {
		q = q.Where("status = ?", f.Status)
	}
	q = q.Session(&gorm.Session{})
	page := Page[WebhookDelivery]{Items: []WebhookDelivery{}}
	capped, err := countUpTo(db, q, countLimit(f.Offset, f.Limit), &page.Total)
	if err != nil {
		return page, nil, err
	}
	page.TotalCapped = capped
	if err := q.Order("id DESC").Limit(f.Limit).Offset(f.Offset).Find(&page.Items).Error; err != nil {
		return page, nil, err
	}
	ids := make([]uint, len(page.Items))
	for i, d := range page.Items {
		ids[i] = d.EventID
	}
	var evs []Event
	if err := db.Where("id IN ?", ids).Find(&evs).Error; err != nil {
		return page, nil, err
	}
	byID := make(map[uint]*Event, len(evs))
	for i := range evs {
		byID[evs[i].ID] = &evs[i]
	}
	return page, byID, nil
}

// WebhookDeliveryWithEvent reads one delivery of an endpoint and its
// event; ErrNotFound when the endpoint has no such delivery.
func (s *Store) WebhookDeliveryWithEvent(ctx context.Context, endpointID, id uint) (*WebhookDelivery, *Event, error) {
	db := s.w.WithContext(ctx)
	var d WebhookDelivery
	if err := db.Where("id = ? AND endpoint_id = ?", id, endpointID).Take(&d).Error; err != nil {
		return nil, nil, notFound(err)
	}
	var ev Event
	if err := db.Where("id = ?", d.EventID).Take(&ev).Error; err != nil {
		return nil, nil, notFound(err)
	}
	return &d, &ev, nil
}
