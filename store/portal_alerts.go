package store

import "context"

// Queries of alerts and alert channels as the portal manages them (the
// notifier's own are in server/alerts).

// ListAlertChannels lists the alert channels in the order they were made.
func (s *Store) ListAlertChannels(ctx context.Context) ([]AlertChannel, error) {
	chans := []AlertChannel{}
	return chans, s.r.WithContext(ctx).Order("id").Find(&chans).Error
}

// CreateAlertChannel stores a new alert channel.
func (s *Store) CreateAlertChannel(ctx context.Context, ch *AlertChannel) error {
	return s.w.WithContext(ctx).Create(ch).Error
}

// SaveAlertChannel writes an alert channel's name, target, alert types,
// whether it is enabled and updated_at.
func (s *Store) SaveAlertChannel(ctx context.Context, ch *AlertChannel) error {
	return s.w.WithContext(ctx).Model(&AlertChannel{}).Where("id = ?", ch.ID).
		Updates(map[string]any{"name": ch.Name, "target": ch.Target, "alert_types": ch.AlertTypes, "enabled": ch.Enabled, "updated_at": ch.UpdatedAt}).Error
}

// DeleteAlertChannel removes an alert channel.
func (s *Store) DeleteAlertChannel(ctx context.Context, id uint) error {
	return s.w.WithContext(ctx).Delete(&AlertChannel{}, id).Error
}

// ListAlerts lists the latest alerts, most recent first, at most limit.
func (s *Store) ListAlerts(ctx context.Context, limit int) ([]Alert, error) {
	as := []Alert{}
	return as, s.r.WithContext(ctx).Order("last_at DESC, id DESC").Limit(limit).Find(&as).Error
}
