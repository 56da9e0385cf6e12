package store

import (
	"context"
	"time"
)

// Retention says how long what anonymous visitors create is kept. The
// README's "Security" section lists these periods.
type Retention struct {
	// SignIns: Microsoft sign-ins in progress (landing page, "Sign in with
	// Microsoft") are deleted this long after they expired; their purchase
	// token is blanked as soon as they expire.
	SignIns time.Duration
	// Tickets: AWS onboarding links, after they expired.
	Tickets time.Duration
	// FailedRegistrations: AWS registrations and Microsoft landings that
	// failed and created no subscription, after they arrived.
	FailedRegistrations time.Duration
	// Throttles: rate-limit counters, after their last event (never while
	// they still block).
	Throttles time.Duration
}

// DefaultRetention is what the server applies.
var DefaultRetention = Retention{SignIns: 24 * time.Hour, Tickets: 7 * 24 * time.Hour,
	FailedRegistrations: 30 * 24 * time.Hour, Throttles: 24 * time.Hour}

// Purged counts what one Purge removed, by kind.
type Purged struct {
	SignIns, PurchaseTokens, Tickets, FailedRegistrations, Throttles, Sessions, EmailVerifications int64
}

// Purge deletes what has outlived its retention period.
func (s *Store) Purge(ctx context.Context, r Retention) (Purged, error) {
	var p Purged
	now := s.Now().UTC()
	db := s.w.WithContext(ctx)
	res := db.Model(&AzureSignIn{}).Where("expires_at <= ? AND purchase_token <> ''", now).Update("purchase_token", "")
	if res.Error != nil {
		return p, res.Error
	}
	p.PurchaseTokens = res.RowsAffected
	if res = db.Where("expires_at < ?", now.Add(-r.SignIns)).Delete(&AzureSignIn{}); res.Error != nil {
		return p, res.Error
	}
	p.SignIns = res.RowsAffected
	if res = db.Where("expires_at < ?", now.Add(-r.Tickets)).Delete(&OnboardingTicket{}); res.Error != nil {
		return p, res.Error
	}
	p.Tickets = res.RowsAffected
	if res = db.Where("source IN ? AND status = ? AND subscription_id IS NULL AND received_at < ?",
		[]string{"aws_registration", "azure_landing"}, InboxFailed, now.Add(-r.FailedRegistrations)).Delete(&InboxMessage{}); res.Error != nil {
		return p, res.Error
	}
	p.FailedRegistrations = res.RowsAffected
	// E-mail verification links (their data holds the chosen password's
	// hash): once used or expired, at once.
	if res = db.Where("expires_at < ? OR used_at IS NOT NULL", now).Delete(&EmailVerification{}); res.Error != nil {
		return p, res.Error
	}
	p.EmailVerifications = res.RowsAffected
	var err error
	if p.Throttles, err = s.PurgeThrottles(ctx, now.Add(-r.Throttles), now); err != nil {
		return p, err
	}
	p.Sessions, err = s.DeleteExpiredSessions(ctx)
	return p, err
}
