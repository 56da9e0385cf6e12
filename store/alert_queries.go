package store

import (
	"context"
	"time"

	"gorm.io/gorm"
)

// The queries of alerts (server/alerts): raising them, what each channel
// was told, and the stored state the sweep raises alerts from.

// RaiseAlert records n occurrences of an alert (type and key identify it)
// at now: a new alert, or one more count on the known one, whose title,
// detail and link become these.
func (s *Store) RaiseAlert(ctx context.Context, typ, key, title, detail, link string, n int, now time.Time) error {
	return s.tx(ctx, func(tx *gorm.DB) error {
		var a Alert
		if err := tx.Where("type = ? AND key = ?", typ, key).Limit(1).Find(&a).Error; err != nil {
			return err
		}
		if a.ID == 0 {
			a = Alert{Type: typ, Key: key, Title: title, Detail: detail, Link: link, Count: n, FirstAt: now, LastAt: now}
			return tx.Create(&a).Error
		}
		return tx.Model(&Alert{}).Where("id = ?", a.ID).Updates(map[string]any{"title": title, "detail": detail, "link": link,
			"count": gorm.Expr("count + ?", n), "last_at": now}).Error
	})
}

// EnabledAlertChannels returns the enabled channels, by id.
func (s *Store) EnabledAlertChannels(ctx context.Context) ([]AlertChannel, error) {
	var chans []AlertChannel
	return chans, s.w.WithContext(ctx).Where("enabled").Order("id").Find(&chans).Error
}

// AlertsSince returns the alerts last seen after since, by id.
func (s *Store) AlertsSince(ctx context.Context, since time.Time) ([]Alert, error) {
	var recent []Alert
	return recent, s.w.WithContext(ctx).Where("last_at > ?", since).Order("id").Find(&recent).Error
}

// AlertNoticeOf returns what a channel was told about an alert (ID 0 when
// nothing yet).
func (s *Store) AlertNoticeOf(ctx context.Context, alertID, channelID uint) (AlertNotice, error) {
	var n AlertNotice
	err := s.w.WithContext(ctx).Where("alert_id = ? AND channel_id = ?", alertID, channelID).Limit(1).Find(&n).Error
	if n.ID == 0 {
		n.AlertID, n.ChannelID = alertID, channelID
	}
	return n, err
}

// saveNotice updates the notice (AlertNoticeOf) of an alert to a channel,
// creating it first when it is new (ID 0).
func (s *Store) saveNotice(ctx context.Context, n AlertNotice, upd map[string]any) error {
	db := s.w.WithContext(ctx)
	if n.ID == 0 {
		n = AlertNotice{AlertID: n.AlertID, ChannelID: n.ChannelID}
		if err := db.Create(&n).Error; err != nil {
			return err
		}
	}
	return db.Model(&AlertNotice{}).Where("id = ?", n.ID).Updates(upd).Error
}

// AlertNoticeSent records that a channel was told of an alert at at, up
// to count occurrences. n is what AlertNoticeOf returned.
func (s *Store) AlertNoticeSent(ctx context.Context, n AlertNotice, at time.Time, count int) error {
	return s.saveNotice(ctx, n, map[string]any{"notified_at": at, "notified_count": count, "attempts": 0, "next_attempt_at": nil, "last_error": ""})
}

// AlertNoticeFailed records a failed attempt to tell a channel of an
// alert: attempts is the count so far, next when to try again. n is what
// AlertNoticeOf returned.
func (s *Store) AlertNoticeFailed(ctx context.Context, n AlertNotice, attempts int, next time.Time, errText string) error {
	return s.saveNotice(ctx, n, map[string]any{"attempts": attempts, "next_attempt_at": next, "last_error": errText})
}

// AlertChannelSent records that a channel took a message at at.
func (s *Store) AlertChannelSent(ctx context.Context, id uint, at time.Time) error {
	return s.w.WithContext(ctx).Model(&AlertChannel{}).Where("id = ?", id).
		Updates(map[string]any{"last_sent_at": at, "last_error": ""}).Error
}

// AlertChannelFailed records the error of a channel's last send.
func (s *Store) AlertChannelFailed(ctx context.Context, id uint, errText string) error {
	return s.w.WithContext(ctx).Model(&AlertChannel{}).Where("id = ?", id).Update("last_error", errText).Error
}

// InboxFailures counts the inbound messages of one source that failed.
type InboxFailures struct {
	Source string
	N      int
	Err    string // one of the errors
}

// FailedInboxBetween counts, per source, the inbound messages received in
// (since, until] that failed to apply.
func (s *Store) FailedInboxBetween(ctx context.Context, since, until time.Time) ([]InboxFailures, error) {
	var out []InboxFailures
	err := s.r.WithContext(ctx).Model(&InboxMessage{}).Select("source, count(*) AS n, max(error) AS err").
		Where("status = ? AND received_at > ? AND received_at <= ?", InboxFailed, since, until).Group("source").Scan(&out).Error
	return out, err
}

// MeteringTrouble counts a marketplace's metering records in trouble.
type MeteringTrouble struct {
	Marketplace string
	N           int
	Reason      string // one of the reasons
}

// RefusedMeteringBetween counts, per marketplace, the records settled in
// (since, until] as rejected, duplicate or in conflict.
func (s *Store) RefusedMeteringBetween(ctx context.Context, since, until time.Time) ([]MeteringTrouble, error) {
	var out []MeteringTrouble
	err := s.r.WithContext(ctx).Model(&MeteringRecord{}).Select("marketplace, count(*) AS n, max(reason) AS reason").
		Where("status IN ? AND settled_at > ? AND settled_at <= ?", []string{RecordRejected, RecordDuplicate, RecordConflict}, since, until).
		Group("marketplace").Scan(&out).Error
	return out, err
}

// ExpiryWarnedBetween counts the records warned of their expiry in
// (since, until].
func (s *Store) ExpiryWarnedBetween(ctx context.Context, since, until time.Time) (int, error) {
	var n int64
	err := s.r.WithContext(ctx).Model(&MeteringRecord{}).Where("expiry_warned_at > ? AND expiry_warned_at <= ?", since, until).Count(&n).Error
	return int(n), err
}

// FailingMeteringBetween counts, per marketplace, the pending records
// tried at least attempts times and updated in (since, until].
func (s *Store) FailingMeteringBetween(ctx context.Context, attempts int, since, until time.Time) ([]MeteringTrouble, error) {
	var out []MeteringTrouble
	err := s.r.WithContext(ctx).Model(&MeteringRecord{}).Select("marketplace, count(*) AS n, max(reason) AS reason").
		Where("status = ? AND attempts >= ? AND updated_at > ? AND updated_at <= ?", RecordPending, attempts, since, until).
		Group("marketplace").Scan(&out).Error
	return out, err
}

// NamedSubscription is a subscription's id and name.
type NamedSubscription struct {
	ID   uint
	Name string
}

// AwaitingApprovalBetween returns the pending subscriptions created in
// (since, until] whose plan the seller approves.
func (s *Store) AwaitingApprovalBetween(ctx context.Context, since, until time.Time) ([]NamedSubscription, error) {
	var out []NamedSubscription
	err := s.r.WithContext(ctx).Table("subscriptions s").Select("s.id, s.name").Joins("JOIN plans p ON p.id = s.plan_id").
		Where("s.state = ? AND p.activation_policy = ? AND s.created_at > ? AND s.created_at <= ?", "pending", ActivateSellerApproves, since, until).
		Scan(&out).Error
	return out, err
}

// TimelineNote is a timeline entry with its subscription's name.
type TimelineNote struct {
	SubscriptionID uint
	Kind           string
	Summary        string
	Name           string
}

// TimelineNotesBetween returns the timeline entries of the kinds written
// in (since, until], in order.
func (s *Store) TimelineNotesBetween(ctx context.Context, kinds []string, since, until time.Time) ([]TimelineNote, error) {
	var out []TimelineNote
	err := s.r.WithContext(ctx).Table("timeline_events t").Select("t.subscription_id, t.kind, t.summary, s.name").
		Joins("JOIN subscriptions s ON s.id = t.subscription_id").
		Where("t.kind IN ? AND t.created_at > ? AND t.created_at <= ?", kinds, since, until).Order("t.id").Scan(&out).Error
	return out, err
}

// UnmatchedInboxBetween counts the processed inbound messages of a source
// and action received in (since, until] that no subscription matched.
func (s *Store) UnmatchedInboxBetween(ctx context.Context, source, action string, since, until time.Time) (int, error) {
	var n int64
	err := s.r.WithContext(ctx).Model(&InboxMessage{}).Where("source = ? AND action = ? AND subscription_id IS NULL AND status = ? AND received_at > ? AND received_at <= ?",
		source, action, InboxProcessed, since, until).Count(&n).Error
	return int(n), err
}
