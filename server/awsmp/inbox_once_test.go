package awsmp_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/marketgate/marketgate/store"
	"github.com/marketgate/marketgate/store/storetest"
)

// killAfterApply simulates the process dying once a message has been
// applied: from the moment the inbox row would be marked done, no write to
// the inbox succeeds any more (a dead process writes nothing). Disarm
// "restarts" the process.
type killAfterApply struct{ dead atomic.Bool }

func (k *killAfterApply) install(t *testing.T, st *store.Store) {
	t.Helper()
	err := st.TestingDB(t).Callback().Update().Before("gorm:update").Register("test:kill_after_apply", func(db *gorm.DB) {
		if db.Statement.Table != "inbox_messages" {
			return
		}
		if upd, ok := db.Statement.Dest.(map[string]any); ok {
			if s, _ := upd["status"].(string); s == store.InboxProcessed || s == store.InboxIgnored {
				k.dead.Store(true)
			}
		}
		if k.dead.Load() {
			_ = db.AddError(errors.New("killed after the apply, before the inbox was marked"))
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.TestingDB(t).Callback().Update().Remove("test:kill_after_apply") })
}

// TestRedeliveryAfterACrashAppliesOnce: AWS's rule is "DeleteMessage only
// after the commit" (reference §6.1: receive → store → apply idempotently →
// DeleteMessage), so a message whose processing died is delivered again.
// The apply and the inbox mark commit together: a crash between them
// leaves neither, and the redelivery applies the message exactly once
// (one timeline entry, one version step).
func TestRedeliveryAfterACrashAppliesOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		now := time.Now().UTC()
		st.TestingDB(t).Create(&store.Offer{Marketplace: "aws", Name: "Legacy", MarketplaceID: "prod-legacy", CreatedAt: now, UpdatedAt: now})
		p := processor(st)
		at := now.Add(-time.Hour)
		if err := p.Receive(ctx, snsEnvelope("m-ok", at, legacyMsg("subscribe-success")), "sqs-ok"); err != nil {
			t.Fatal(err)
		}
		var before store.Subscription
		st.TestingReadDB(t).Where("aws_customer_identifier = ?", "X01EXAMPLEX").First(&before)

		kill := &killAfterApply{}
		kill.install(t, st)
		cancel := snsEnvelope("m-cancel", at.Add(time.Minute), legacyMsg("unsubscribe-pending"))
		_ = p.Receive(ctx, cancel, "sqs-1") // the process dies in here
		if !kill.dead.Load() {
			t.Fatal("the kill point was never reached")
		}
		kill.dead.Store(false) // restart; SQS delivers the message again (it was never deleted)
		if err := st.TestingDB(t).Callback().Update().Remove("test:kill_after_apply"); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 3; i++ {
			if err := p.Receive(ctx, cancel, "sqs-1"); err != nil {
				t.Fatal(err)
			}
		}
		p.RetryDue(ctx)

		var after store.Subscription
		st.TestingReadDB(t).First(&after, before.ID)
		var m store.InboxMessage
		st.TestingReadDB(t).Where("dedup_key = ?", "sns:m-cancel").First(&m)
		var entries int64
		st.TestingReadDB(t).Model(&store.TimelineEvent{}).Where("inbox_id = ?", m.ID).Count(&entries)
		if after.State != "unsubscribe_pending" || m.Status != store.InboxProcessed {
			t.Fatalf("after the redelivery: state %s, inbox %s", after.State, m.Status)
		}
		if entries != 1 || after.Version != before.Version+1 {
			t.Fatalf("applied more than once: %d timeline entries from the message, version %d→%d", entries, before.Version, after.Version)
		}
	})
}

// TestConcurrentAttemptsApplyOnce: the same stored message applied at once
// by several replicas (or a redelivery racing the original, or a replay)
// is applied by one of them; the others keep nothing.
func TestConcurrentAttemptsApplyOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		now := time.Now().UTC()
		st.TestingDB(t).Create(&store.Offer{Marketplace: "aws", Name: "Legacy", MarketplaceID: "prod-legacy", CreatedAt: now, UpdatedAt: now})
		body := snsEnvelope("m-1", now.Add(-time.Minute), legacyMsg("subscribe-success"))
		m, _, err := st.ReceiveInbox(ctx, &store.InboxMessage{Marketplace: "aws", Source: "aws_sqs", DedupKey: "sns:m-1", Body: body})
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for i := 0; i < 6; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				copy := *m
				_ = processor(st).Apply(ctx, &copy)
			}()
		}
		wg.Wait()
		var subs []store.Subscription
		st.TestingReadDB(t).Find(&subs)
		var entries int64
		st.TestingReadDB(t).Model(&store.TimelineEvent{}).Where("inbox_id = ?", m.ID).Count(&entries)
		var got store.InboxMessage
		st.TestingReadDB(t).First(&got, m.ID)
		if len(subs) != 1 || entries != 1 || got.Status != store.InboxProcessed || got.Attempts != 1 {
			t.Fatalf("%d subscriptions, %d timeline entries, inbox %s after %d attempts", len(subs), entries, got.Status, got.Attempts)
		}
	})
}
