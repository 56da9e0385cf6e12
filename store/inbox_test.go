package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/marketgate/marketgate/store"
	"github.com/marketgate/marketgate/store/storetest"
)

func TestInboxStoresEachMessageOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		msg := func(body string) *store.InboxMessage {
			return &store.InboxMessage{Marketplace: "azure", Source: "azure_webhook", DedupKey: "op-1", Action: "Suspend", Body: body}
		}
		first, isNew, err := st.ReceiveInbox(ctx, msg(`{"first":true}`))
		if err != nil || !isNew || first.ID == 0 || first.Status != store.InboxReceived {
			t.Fatalf("first: %+v %v %v", first, isNew, err)
		}
		// 50 concurrent redeliveries: none is stored, all see the first.
		var wg sync.WaitGroup
		for i := 0; i < 50; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				got, isNew, err := st.ReceiveInbox(ctx, msg(`{"again":true}`))
				if err != nil || isNew || got.ID != first.ID || got.Body != `{"first":true}` {
					t.Errorf("redelivery: %+v %v %v", got, isNew, err)
				}
			}()
		}
		wg.Wait()
		var n int64
		st.TestingReadDB(t).Model(&store.InboxMessage{}).Count(&n)
		if n != 1 {
			t.Fatalf("%d rows", n)
		}
		// The same key from another source is another message.
		other := msg("{}")
		other.Source = "aws_sqs"
		if _, isNew, err := st.ReceiveInbox(ctx, other); err != nil || !isNew {
			t.Fatalf("other source: %v %v", isNew, err)
		}
		if _, _, err := st.ReceiveInbox(ctx, &store.InboxMessage{Source: "x"}); err == nil {
			t.Fatal("a message without a dedup key was stored")
		}
	})
}

func TestInboxRetries(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		m, _, err := st.ReceiveInbox(ctx, &store.InboxMessage{Marketplace: "aws", Source: "aws_sqs", DedupKey: "m-1", Body: "{}"})
		if err != nil {
			t.Fatal(err)
		}
		past := time.Now().UTC().Add(-time.Minute)
		if err := st.FinishInbox(ctx, m.ID, store.InboxFailed, "database busy", nil, &past); err != nil {
			t.Fatal(err)
		}
		due, _ := st.DueInbox(ctx, "aws_sqs", 10)
		if len(due) != 1 || due[0].Attempts != 1 || due[0].Error != "database busy" {
			t.Fatalf("due: %+v", due)
		}
		future := time.Now().UTC().Add(time.Hour)
		st.FinishInbox(ctx, m.ID, store.InboxFailed, "still busy", nil, &future)
		if due, _ := st.DueInbox(ctx, "aws_sqs", 10); len(due) != 0 {
			t.Fatal("a message was due before its retry time")
		}
		if err := st.FinishInbox(ctx, m.ID, store.InboxProcessed, "", nil, nil); err != nil {
			t.Fatal(err)
		}
		got, _ := st.GetInbox(ctx, m.ID)
		if got.Status != store.InboxProcessed || got.Attempts != 3 || got.ProcessedAt == nil || got.NextAttemptAt != nil {
			t.Fatalf("after success: %+v", got)
		}
		if err := st.FinishInbox(ctx, 99999, store.InboxProcessed, "", nil, nil); err != store.ErrNotFound {
			t.Fatalf("unknown id: %v", err)
		}
	})
}
