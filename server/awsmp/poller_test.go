package awsmp_test

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/marketgate/marketgate/server/awsmp"
	"github.com/marketgate/marketgate/server/sandbox/awsfake"
	"github.com/marketgate/marketgate/store"
	"github.com/marketgate/marketgate/store/storetest"
)

func sqsClient(url string) *sqs.Client {
	return sqs.New(sqs.Options{Region: "us-east-1", BaseEndpoint: aws.String(url),
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")})
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestPollerStoresAppliesAndDeletes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		fake := awsfake.NewSQS(nil)
		srv := httptest.NewServer(fake)
		defer srv.Close()
		queue := srv.URL + "/000000000000/notifications"
		fake.CreateQueue(queue)
		client := sqsClient(srv.URL)

		// Messages go in through the real client, as SNS would put them.
		at := time.Now().UTC().Add(-time.Minute)
		for _, body := range []string{
			snsEnvelope("m-1", at, legacyMsg("subscribe-success")),
			snsEnvelope("m-1", at, legacyMsg("subscribe-success")), // SNS delivers at least once
			snsEnvelope("m-2", at, map[string]any{"action": "something-new"}),
			"garbage",
		} {
			if _, err := client.SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: aws.String(queue), MessageBody: aws.String(body)}); err != nil {
				t.Fatal(err)
			}
		}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		p := &awsmp.Poller{SQS: client, QueueURL: queue, Processor: processor(st), Log: processor(st).Log, Wait: 1}
		done := make(chan struct{})
		go func() { p.Run(ctx); close(done) }()
		waitFor(t, "the queue to drain", func() bool { return fake.Len(queue) == 0 })
		cancel()
		<-done

		var msgs []store.InboxMessage
		st.TestingReadDB(t).Order("id").Find(&msgs)
		if len(msgs) != 3 {
			t.Fatalf("%d inbox rows, want 3 (the duplicate is one)", len(msgs))
		}
		var sub store.Subscription
		if err := st.TestingReadDB(t).Where("aws_customer_identifier = ?", "X01EXAMPLEX").First(&sub).Error; err != nil || sub.State != "active" {
			t.Fatalf("subscription: %+v %v", sub, err)
		}
	})
}

func TestPollerLeavesUnstoredMessagesInTheQueue(t *testing.T) {
	st := storetest.Open(t, store.SQLite)
	fake := awsfake.NewSQS(nil)
	srv := httptest.NewServer(fake)
	defer srv.Close()
	queue := srv.URL + "/000000000000/notifications"
	fake.CreateQueue(queue)
	fake.Send(queue, snsEnvelope("m-1", time.Now(), legacyMsg("subscribe-success")))
	db, _ := st.TestingDB(t).DB()
	db.Close() // the database is down: nothing can be stored

	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	p := &awsmp.Poller{SQS: sqsClient(srv.URL), QueueURL: queue, Processor: processor(st), Log: processor(st).Log, Wait: 1}
	p.Run(ctx)
	if fake.Len(queue) != 1 {
		t.Fatal("a message that could not be stored was deleted from the queue")
	}
}
