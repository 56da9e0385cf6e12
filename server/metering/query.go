package metering

import (
	"context"
	"time"
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
	c, err := m.Store.Reads(ctx).MeteringHealth(expiringAt(now), now.Add(-24*time.Hour), now.Add(-7*24*time.Hour))
	return Health{Pending: c.Pending, Expiring: c.Expiring, Accepted: c.Accepted, Failed: c.Failed, Expired: c.Expired, Unsealed: c.Unsealed}, err
}

// Observe folds the records' counts (store.FoldMeteringRecordCounts: the
// rows the last 30 s of changes added), computes the health and keeps it
// for the metrics endpoint.
func (m *Meter) Observe(ctx context.Context) {
	if _, err := m.Store.FoldMeteringRecordCounts(ctx); err != nil && ctx.Err() == nil && m.Log != nil {
		m.Log.Error("metering: folding the records' counts", "err", err)
	}
	if h, err := m.HealthNow(ctx); err == nil {
		m.last.Store(&h)
	}
	if m.Metrics != nil {
		if counts, err := m.Store.Reads(ctx).MeteringRecordsByStatus(m.now().Add(-7 * 24 * time.Hour)); err == nil {
			m.Metrics.MeteringRecords(counts)
		}
		m.Metrics.UsageIDsHeld(m.seen.Len())
	}
}

// LastHealth is the health as last observed (zero before the first time).
func (m *Meter) LastHealth() Health {
	if h := m.last.Load(); h != nil {
		return *h
	}
	return Health{}
}
