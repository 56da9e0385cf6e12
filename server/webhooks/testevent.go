package webhooks

import (
	"context"
	"time"

	"github.com/marketgate/marketgate/store"
)

// SendTest queues a test event for one endpoint (the portal's "Send test
// event" button) and returns the id of its delivery.
func SendTest(ctx context.Context, st *store.Store, now time.Time, endpointID uint, sentBy string) (uint, error) {
	var id uint
	err := st.InTx(ctx, func(tx *store.Tx) error {
		if err := Emit(tx, now, Event{Type: Test, Only: endpointID,
			Data: map[string]any{"message": "A test event from Marketgate.", "sent_by": sentBy}}); err != nil {
			return err
		}
		var err error
		id, err = tx.LatestDeliveryID(endpointID)
		return err
	})
	return id, err
}
