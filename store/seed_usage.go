package store

import (
	"time"

	"gorm.io/gorm/clause"
)

// SealedUsageHour is one finished hour of a subscription's usage of one
// dimension, already sealed into its metering record: the sandbox's demo
// usage history.
type SealedUsageHour struct {
	SubscriptionID uint
	Dimension      string
	Hour           time.Time
	Quantity       float64
	Events         int
}

// CreateSealedUsageHours stores finished, sealed usage hours (an hour
// already there is left as it is).
func (t *Tx) CreateSealedUsageHours(rows []SealedUsageHour, now time.Time) error {
	const batch = 500
	for i := 0; i < len(rows); i += batch {
		chunk := rows[i:min(i+batch, len(rows))]
		vals := make([]map[string]any, len(chunk))
		for j, r := range chunk {
			vals[j] = map[string]any{"subscription_id": r.SubscriptionID, "dimension": r.Dimension, "hour": r.Hour.UTC(),
				"quantity": r.Quantity, "events": r.Events, "sealed": true, "updated_at": now}
		}
		if err := t.db.Table("usage_hours").Clauses(clause.OnConflict{DoNothing: true}).Create(vals).Error; err != nil {
			return err
		}
	}
	return nil
}

// CreateMeteringRecordsInBatches stores many new records (see
// CreateMeteringRecords), a few hundred per statement.
func (t *Tx) CreateMeteringRecordsInBatches(recs []MeteringRecord) error {
	const batch = 500
	for i := 0; i < len(recs); i += batch {
		if _, err := t.CreateMeteringRecords(recs[i:min(i+batch, len(recs))]); err != nil {
			return err
		}
	}
	return nil
}
