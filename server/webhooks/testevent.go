package webhooks

import (
	"context"
	"time"

	"gorm.io/gorm"

	"github.com/marketgate/marketgate/store"
)

// SendTest queues a test event for one endpoint (the portal's "Send test
// event" button) and returns the id of its delivery.
func SendTest(ctx context.Context, st *store.Store, now time.Time, endpointID uint, sentBy string) (uint, error) {
	var id uint
	err := st.Tx(ctx, func(tx *gorm.DB) error {
		if err := Emit(tx, now, Event{Type: Test, Only: endpointID,
			Data: map[string]any{"message": "A test event from Marketgate.", "sent_by": sentBy}}); err != nil {
			return err
		}
		return tx.Model(&store.WebhookDelivery{}).Where("endpoint_id = ?", endpointID).Order("id DESC").Limit(1).Pluck("id", &id).Error
	})
	return id, err
}
