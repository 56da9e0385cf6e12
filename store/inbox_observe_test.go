package store_test

import (
	"context"
	"testing"

	"github.com/marketgate/marketgate/store"
	"github.com/marketgate/marketgate/store/storetest"
)

// TestOnInboxHearsEveryOutcome: the metrics hook hears a message's
// marketplace and source with each outcome: received, duplicate, failed
// (FinishInbox), processed (ApplyInbox).
func TestOnInboxHearsEveryOutcome(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		var heard []string
		st.OnInbox = func(marketplace, source, outcome string) { heard = append(heard, marketplace+"/"+source+"/"+outcome) }
		msg := func() *store.InboxMessage {
			return &store.InboxMessage{Marketplace: "aws", Source: "aws_sqs", DedupKey: "k1", Action: "subscribe-success"}
		}
		m, _, err := st.ReceiveInbox(ctx, msg())
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := st.ReceiveInbox(ctx, msg()); err != nil {
			t.Fatal(err)
		}
		if err := st.FinishInbox(ctx, m.ID, store.InboxFailed, "boom", nil, nil); err != nil {
			t.Fatal(err)
		}
		m, _, _ = st.ReceiveInbox(ctx, msg())
		if err := st.ApplyInbox(ctx, m, func(*store.Tx) (store.InboxOutcome, error) {
			return store.InboxOutcome{Status: store.InboxProcessed}, nil
		}); err != nil {
			t.Fatal(err)
		}
		want := []string{"aws/aws_sqs/received", "aws/aws_sqs/duplicate", "aws/aws_sqs/failed", "aws/aws_sqs/duplicate", "aws/aws_sqs/processed"}
		if len(heard) != len(want) {
			t.Fatalf("heard %v, want %v", heard, want)
		}
		for i := range want {
			if heard[i] != want[i] {
				t.Fatalf("heard %v, want %v", heard, want)
			}
		}
	})
}
