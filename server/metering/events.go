package metering

import (
	"context"
	"time"

	"github.com/marketgate/marketgate/server/webhooks"
	"github.com/marketgate/marketgate/store"
)

// recordData is a metering record as webhook events carry it.
func recordData(r *store.MeteringRecord) map[string]any {
	return map[string]any{"id": r.ID, "subscription_id": r.SubscriptionID, "marketplace": r.Marketplace, "dimension": r.Dimension,
		"hour": r.Hour.UTC(), "quantity": r.Quantity, "status": r.Status, "reason": r.Reason, "attempts": r.Attempts}
}

// emitRecords tells the seller's systems about records (rejected, expiring,
// expired), in the transaction that changed them.
func emitRecords(tx *store.Tx, now time.Time, typ string, ids []uint) error {
	if len(ids) == 0 {
		return nil
	}
	if ok, err := webhooks.Listening(tx, typ); err != nil || !ok {
		return err
	}
	recs, err := tx.MeteringRecordsByID(ids)
	if err != nil {
		return err
	}
	// One event a record, read with its subscription once.
	bySub := map[uint][]map[string]any{}
	var subs []uint
	for i := range recs {
		id := recs[i].SubscriptionID
		if bySub[id] == nil {
			subs = append(subs, id)
		}
		bySub[id] = append(bySub[id], map[string]any{"record": recordData(&recs[i])})
	}
	for _, id := range subs {
		if err := webhooks.EmitSubscription(tx, now, id, now, []string{typ}, bySub[id]...); err != nil {
			return err
		}
	}
	return nil
}

// WarnExpiring marks the pending records whose deadline (sendDeadline: the
// 24-hour window or, for AWS, the month-end cutoff, whichever comes first)
// is at most ExpiryWarning away, and emits metering.record_expiring once for
// each. It returns how many it marked.
func (m *Meter) WarnExpiring(ctx context.Context) (int, error) {
	now := m.now()
	ids, err := m.Store.Writes(ctx).ExpiringRecordIDs(expiringAt(now), 500)
	if err != nil || len(ids) == 0 {
		return 0, err
	}
	n := 0
	err = m.Store.InTx(ctx, func(tx *store.Tx) error {
		marked, err := tx.MarkRecordsWarned(ids, now)
		if err != nil {
			return err
		}
		n = int(marked)
		return emitRecords(tx, now, webhooks.MeteringRecordExpiring, ids)
	})
	return n, err
}
