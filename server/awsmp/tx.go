package awsmp

import (
	"time"

	"github.com/marketgate/marketgate/server/lifecycle"
	"github.com/marketgate/marketgate/server/subscriptions"
	"github.com/marketgate/marketgate/server/webhooks"
	"github.com/marketgate/marketgate/store"
)

// The calls of this package into subscriptions and webhooks, on the
// caller's transaction.

func applyTx(tx *store.Tx, now time.Time, ref subscriptions.Ref, ev lifecycle.Event, meta subscriptions.Meta, init subscriptions.Init) (subscriptions.Result, error) {
	return subscriptions.ApplyTx(tx, now, ref, ev, meta, init)
}

func noteTx(tx *store.Tx, now time.Time, subID uint, kind string, at time.Time, summary string, meta subscriptions.Meta) error {
	return subscriptions.NoteTx(tx, now, subID, kind, at, summary, meta)
}

func emitSubscription(tx *store.Tx, now time.Time, subID uint, at time.Time, types []string, extras ...map[string]any) error {
	return webhooks.EmitSubscription(tx, now, subID, at, types, extras...)
}
