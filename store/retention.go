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
	// EmptyUsageHours: usage hours sealed with nothing in them (sealing
	// stores one for every metered dimension of every active subscription
	// every hour), after their hour. Usage reports show idle hours as zero
	// without them, and the metering records keep what was sent; ingestion
	// reads no hour older than its 24-hour window.
	EmptyUsageHours time.Duration
}

// DefaultRetention is what the server applies.
var DefaultRetention = Retention{SignIns: 24 * time.Hour, Tickets: 7 * 24 * time.Hour,
	FailedRegistrations: 30 * 24 * time.Hour, Throttles: 24 * time.Hour, EmptyUsageHours: 7 * 24 * time.Hour}

// Purged counts what one Purge removed, by kind.
type Purged struct {
	SignIns, PurchaseTokens, Tickets, FailedRegistrations, Throttles, Sessions, EmailVerifications, EmptyUsageHours int64
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
	if p.Sessions, err = s.DeleteExpiredSessions(ctx); err != nil {
		return p, err
	}
	if r.EmptyUsageHours > 0 {
		p.EmptyUsageHours, err = s.PurgeEmptyUsageHours(ctx, now.Add(-r.EmptyUsageHours))
	}
	return p, err
}

// emptyHoursPurgedSetting is the hour up to which (not included) empty
// sealed usage hours have been deleted.
const emptyHoursPurgedSetting = "usage_hours.empty_purged_through"

// Limits of one sweep of empty usage hours: rows a statement deletes (each
// statement its own short write), and hours a sweep goes through (a
// database kept for a year is cleared in a few days of hourly sweeps).
var (
	emptyHoursChunk    = 5000
	emptyHoursPerSweep = 72
)

// PurgeEmptyUsageHours deletes the usage hours sealed with nothing in them
// whose hour is before the given one, hour by hour from where the last
// sweep stopped (the first starts at the oldest sealed hour), a chunk a
// statement, and returns how many it deleted. Each hour's rows are found
// by the index of sealed hours.
func (s *Store) PurgeEmptyUsageHours(ctx context.Context, before time.Time) (int64, error) {
	before = before.UTC().Truncate(time.Hour)
	db := s.w.WithContext(ctx)
	var from time.Time
	if v, ok, err := s.GetSetting(ctx, emptyHoursPurgedSetting); err != nil {
		return 0, err
	} else if ok {
		if from, err = time.Parse(time.RFC3339, v); err != nil {
			return 0, err
		}
	} else {
		var oldest []time.Time
		if err := db.Table("usage_hours").Where("sealed = ?", true).Order("hour").Limit(1).Pluck("hour", &oldest).Error; err != nil || len(oldest) == 0 {
			return 0, err
		}
		from = oldest[0].UTC()
	}
	var total int64
	for h, n := from, 0; h.Before(before) && n < emptyHoursPerSweep; h, n = h.Add(time.Hour), n+1 {
		for {
			keys := db.Table("usage_hours").Select("subscription_id, dimension, hour").
				Where("sealed = ? AND hour = ? AND events = 0 AND quantity = 0", true, h).Limit(emptyHoursChunk)
			res := db.Exec("DELETE FROM usage_hours WHERE (subscription_id, dimension, hour) IN (?)", keys)
			if res.Error != nil {
				return total, res.Error
			}
			total += res.RowsAffected
			if res.RowsAffected < int64(emptyHoursChunk) {
				break
			}
		}
		if err := s.SetSetting(ctx, emptyHoursPurgedSetting, h.Add(time.Hour).Format(time.RFC3339)); err != nil {
			return total, err
		}
	}
	return total, nil
}
