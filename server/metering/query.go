package metering

import (
	"context"
	"time"

	"gorm.io/gorm"

	"github.com/marketgate/marketgate/store"
)

// Health is metering at a glance.
type Health struct {
	Pending  int64 `json:"pending"`  // sealed, waiting to be sent or retried
	Expiring int64 `json:"expiring"` // pending, its deadline (24 h, or AWS's month-end cutoff) at most 4 hours away
	Accepted int64 `json:"accepted"` // settled in the last 24 hours
	Failed   int64 `json:"failed"`   // rejected, duplicate or conflict in the last 24 hours
	Expired  int64 `json:"expired"`  // never accepted within the window (last 7 days)
	Unsealed int64 `json:"unsealed_usage_hours"`
}

// HealthNow counts records by what needs attention.
func (m *Meter) HealthNow(ctx context.Context) (Health, error) {
	now := m.now()
	var h Health
	expiring, expiringArgs := ExpiringBy(now)
	db := m.Store.R.WithContext(ctx)
	count := func(dst *int64, q *gorm.DB) error { return q.Count(dst).Error }
	recs := func() *gorm.DB { return db.Model(&store.MeteringRecord{}) }
	for _, c := range []struct {
		dst *int64
		q   *gorm.DB
	}{
		{&h.Pending, recs().Where("status = ?", store.RecordPending)},
		{&h.Expiring, recs().Where(expiring, expiringArgs...)},
		{&h.Accepted, recs().Where("status = ? AND settled_at >= ?", store.RecordAccepted, now.Add(-24*time.Hour))},
		{&h.Failed, recs().Where("status IN ? AND settled_at >= ?", []string{store.RecordRejected, store.RecordDuplicate, store.RecordConflict}, now.Add(-24*time.Hour))},
		{&h.Expired, recs().Where("status = ? AND hour >= ?", store.RecordExpired, now.Add(-7*24*time.Hour))},
		{&h.Unsealed, db.Table("usage_hours").Where("sealed = ?", false)},
	} {
		if err := count(c.dst, c.q); err != nil {
			return h, err
		}
	}
	return h, nil
}

// Observe computes the health and keeps it for the metrics endpoint.
func (m *Meter) Observe(ctx context.Context) {
	if h, err := m.HealthNow(ctx); err == nil {
		m.last.Store(&h)
	}
}

// LastHealth is the health as last observed (zero before the first time).
func (m *Meter) LastHealth() Health {
	if h := m.last.Load(); h != nil {
		return *h
	}
	return Health{}
}
