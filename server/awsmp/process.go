package awsmp

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/marketgate/marketgate/server/lifecycle"
	"github.com/marketgate/marketgate/server/subscriptions"
	"github.com/marketgate/marketgate/store"
)

// SourceSQS is the inbox source of AWS notifications read from SQS.
const SourceSQS = "aws_sqs"

// Processor stores AWS notifications in the inbox and applies them.
type Processor struct {
	Store *store.Store
	Log   *slog.Logger
}

// Receive stores one SQS message body in the inbox and applies it. It
// returns an error only when the message could not be stored: then it must
// stay in the queue. A message that is stored but fails to apply is kept
// with its error and retried from the inbox, never from the queue.
func (p *Processor) Receive(ctx context.Context, body, sqsMessageID string) error {
	n, perr := ParseNotification(body, sqsMessageID)
	msg := &store.InboxMessage{Marketplace: "aws", Source: SourceSQS, DedupKey: n.DedupKey, Action: n.Action,
		ContentType: "application/json", Body: body}
	if perr != nil || n.DedupKey == "" || strings.HasSuffix(n.DedupKey, ":") {
		msg.DedupKey = "sqs:" + sqsMessageID
	}
	stored, isNew, err := p.Store.ReceiveInbox(ctx, msg)
	if err != nil {
		return err
	}
	if !isNew && stored.Status != store.InboxReceived {
		return nil // a redelivery of something already handled (or waiting for its retry)
	}
	_ = p.Apply(ctx, stored)
	return nil
}

// retryDelay backs off with the number of attempts made.
func retryDelay(attempts int) time.Duration {
	d := time.Minute
	for i := 0; i < attempts && d < 2*time.Hour; i++ {
		d *= 4
	}
	if d > 2*time.Hour {
		d = 2 * time.Hour
	}
	return d
}

// Apply processes a stored message: on first receipt, on retry, on replay.
func (p *Processor) Apply(ctx context.Context, m *store.InboxMessage) error {
	n, err := ParseNotification(m.Body, strings.TrimPrefix(m.DedupKey, "sqs:"))
	if err != nil {
		p.Log.Warn("aws notification unreadable", "inbox_id", m.ID, "err", err)
		return p.Store.FinishInbox(ctx, m.ID, store.InboxFailed, err.Error(), nil, nil)
	}
	if n.Kind == "" {
		return p.Store.FinishInbox(ctx, m.ID, store.InboxIgnored, n.Ignore, nil, nil)
	}
	var subID uint
	now := p.Store.Now()
	err = p.Store.Tx(ctx, func(tx *gorm.DB) error {
		var offer store.Offer
		if n.ProductCode != "" {
			if err := tx.Where("marketplace = 'aws' AND marketplace_id = ?", n.ProductCode).Limit(1).Find(&offer).Error; err != nil {
				return err
			}
		}
		res, err := subscriptions.ApplyTx(tx, now, n.Ref, lifecycle.Event{Kind: n.Kind, At: n.At},
			subscriptions.Meta{Source: SourceSQS, Actor: "aws", Payload: m.Body, InboxID: &m.ID},
			func(s *store.Subscription) {
				if offer.ID != 0 {
					s.OfferID = &offer.ID
				}
				s.AWSProductCode = n.ProductCode
				s.FreeTrial = n.FreeTrial
			})
		if err != nil {
			return err
		}
		if res.Subscription == nil {
			return errors.New("the event created no subscription")
		}
		s := res.Subscription
		subID = s.ID
		upd := map[string]any{}
		if s.OfferID == nil && offer.ID != 0 {
			upd["offer_id"] = offer.ID
		}
		if n.FreeTrial && !s.FreeTrial {
			upd["free_trial"] = true
		}
		if len(upd) == 0 {
			return nil
		}
		upd["version"], upd["updated_at"] = gorm.Expr("version + 1"), now
		return tx.Model(&store.Subscription{}).Where("id = ?", s.ID).Updates(upd).Error
	})
	if err != nil {
		retry := now.Add(retryDelay(m.Attempts))
		p.Log.Error("aws notification failed to apply", "inbox_id", m.ID, "err", err, "retry_at", retry)
		if ferr := p.Store.FinishInbox(ctx, m.ID, store.InboxFailed, err.Error(), nil, &retry); ferr != nil {
			return ferr
		}
		return err
	}
	return p.Store.FinishInbox(ctx, m.ID, store.InboxProcessed, "", &subID, nil)
}

// RetryDue applies the failed AWS messages whose retry time has come.
func (p *Processor) RetryDue(ctx context.Context) {
	due, err := p.Store.DueInbox(ctx, SourceSQS, 100)
	if err != nil {
		p.Log.Error("inbox retry", "err", err)
		return
	}
	for i := range due {
		_ = p.Apply(ctx, &due[i])
	}
}
