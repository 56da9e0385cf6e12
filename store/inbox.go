package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// ReceiveInbox stores an inbound message before it is acknowledged. A
// message whose (source, dedup key) is already stored is not stored again:
// the stored one is returned with isNew=false, so a redelivery is answered
// from what was recorded the first time.
func (s *Store) ReceiveInbox(ctx context.Context, m *InboxMessage) (stored *InboxMessage, isNew bool, err error) {
	if m.Source == "" || m.DedupKey == "" {
		return nil, false, errors.New("an inbox message needs a source and a dedup key")
	}
	if m.ReceivedAt.IsZero() {
		m.ReceivedAt = s.Now()
	}
	if m.Status == "" {
		m.Status = InboxReceived
	}
	err = s.tx(ctx, func(tx *gorm.DB) error {
		r := tx.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "source"}, {Name: "dedup_key"}}, DoNothing: true}).Create(m)
		if r.Error != nil {
			return r.Error
		}
		isNew = r.RowsAffected == 1
		var got InboxMessage
		if err := tx.Where("source = ? AND dedup_key = ?", m.Source, m.DedupKey).First(&got).Error; err != nil {
			return err
		}
		stored = &got
		return nil
	})
	if err == nil && s.OnInbox != nil {
		s.OnInbox(m.Marketplace, m.Source, map[bool]string{true: "received", false: "duplicate"}[isNew])
	}
	return stored, isNew, err
}

// FinishInbox records the outcome of one processing attempt: processed or
// ignored (done), or failed with the error and when to try again.
func (s *Store) FinishInbox(ctx context.Context, id uint, status, errText string, subscriptionID *uint, retryAt *time.Time) error {
	now := s.Now()
	upd := map[string]any{"status": status, "error": errText, "attempts": gorm.Expr("attempts + 1"), "next_attempt_at": retryAt}
	if status != InboxFailed {
		upd["processed_at"] = now
		upd["next_attempt_at"] = nil
	}
	if subscriptionID != nil {
		upd["subscription_id"] = *subscriptionID
	}
	// RETURNING names the message's marketplace and source for OnInbox in
	// the same statement (no second read on every outcome).
	var m InboxMessage
	r := s.w.WithContext(ctx).Model(&m).Clauses(clause.Returning{Columns: []clause.Column{{Name: "marketplace"}, {Name: "source"}}}).
		Where("id = ?", id).Updates(upd)
	if r.Error != nil {
		return r.Error
	}
	if r.RowsAffected == 0 {
		return ErrNotFound
	}
	if s.OnInbox != nil {
		s.OnInbox(m.Marketplace, m.Source, status)
	}
	return nil
}

// ErrInboxTaken means another attempt at the same stored message committed
// first (a redelivery racing the original, two replicas, a replay): the
// attempt kept nothing.
var ErrInboxTaken = errors.New("the inbox message was processed by another attempt")

// InboxOutcome is how one apply attempt of a stored message ended.
type InboxOutcome struct {
	Status         string // InboxProcessed or InboxIgnored
	Error          string // why it was ignored
	SubscriptionID *uint
}

// ApplyInbox runs fn, which applies a stored message, and records the
// outcome in the same transaction: a message is never applied without being
// marked done, nor marked without being applied, so a crash anywhere leaves
// either both or neither, and a redelivery after a crash applies it once.
//
// The attempt is claimed first, against the attempt count m was read with:
// a concurrent attempt at the same message waits for the row and then finds
// it taken (ErrInboxTaken), keeping nothing of its own fn. When fn fails,
// nothing is kept and the caller records the failure (FinishInbox).
func (s *Store) ApplyInbox(ctx context.Context, m *InboxMessage, fn func(tx *Tx) (InboxOutcome, error)) error {
	var status string
	err := s.tx(ctx, func(tx *gorm.DB) error {
		r := tx.Model(&InboxMessage{}).Where("id = ? AND attempts = ?", m.ID, m.Attempts).
			Update("attempts", gorm.Expr("attempts + 1"))
		if r.Error != nil {
			return r.Error
		}
		if r.RowsAffected != 1 {
			return ErrInboxTaken
		}
		out, err := fn(s.wrap(tx))
		if err != nil {
			return err
		}
		if out.Status != InboxProcessed && out.Status != InboxIgnored {
			return fmt.Errorf("an applied inbox message ends processed or ignored, not %q", out.Status)
		}
		upd := map[string]any{"status": out.Status, "error": out.Error, "processed_at": s.Now(), "next_attempt_at": nil}
		if out.SubscriptionID != nil {
			upd["subscription_id"] = *out.SubscriptionID
		}
		status = out.Status
		return tx.Model(&InboxMessage{}).Where("id = ?", m.ID).Updates(upd).Error
	})
	if err == nil && s.OnInbox != nil { // heard once committed
		s.OnInbox(m.Marketplace, m.Source, status)
	}
	return err
}

// DueInbox lists a source's failed messages whose retry time has come, oldest first.
func (s *Store) DueInbox(ctx context.Context, source string, limit int) ([]InboxMessage, error) {
	var out []InboxMessage
	err := s.r.WithContext(ctx).Where("source = ? AND status = ? AND next_attempt_at <= ?", source, InboxFailed, s.Now()).
		Order("next_attempt_at, id").Limit(limit).Find(&out).Error
	return out, err
}
