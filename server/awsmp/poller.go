package awsmp

import (
	"context"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// SQSAPI is the part of the SQS client the poller uses.
type SQSAPI interface {
	ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, opts ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	DeleteMessage(ctx context.Context, in *sqs.DeleteMessageInput, opts ...func(*sqs.Options)) (*sqs.DeleteMessageOutput, error)
}

// Poller long-polls one SQS queue and hands each message to the
// processor; a message is deleted only after it is stored.
type Poller struct {
	SQS       SQSAPI
	QueueURL  string
	Processor *Processor
	Log       *slog.Logger
	Wait      int32 // long-poll seconds (default 20)
	// Observe, when set, hears how each receive went (alerts on repeated failures).
	Observe func(err error)
}

// Run polls until ctx ends, waiting after a failed receive (1 s doubling
// up to a minute). The server runs Once on its job runner instead.
func (p *Poller) Run(ctx context.Context) {
	backoff := time.Second
	for ctx.Err() == nil {
		if err := p.Once(ctx); err != nil {
			if ctx.Err() != nil {
				return
			}
			p.Log.Error("sqs receive failed", "queue", p.QueueURL, "err", err, "retry_in", backoff)
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(backoff*2, time.Minute)
			continue
		}
		backoff = time.Second
	}
}

// Once long-polls the queue once and stores and deletes what it receives.
// The error is the receive's (a message that is not stored is logged and
// left in the queue).
func (p *Poller) Once(ctx context.Context) error {
	wait := p.Wait
	if wait == 0 {
		wait = 20
	}
	out, err := p.SQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(p.QueueURL),
		MaxNumberOfMessages: 10, WaitTimeSeconds: wait})
	if p.Observe != nil && ctx.Err() == nil {
		p.Observe(err)
	}
	if err != nil {
		return err
	}
	for _, m := range out.Messages {
		if err := p.Processor.Receive(ctx, aws.ToString(m.Body), aws.ToString(m.MessageId)); err != nil {
			// Not stored: leave it in the queue; it comes back after its visibility timeout.
			p.Log.Error("aws notification not stored; left in the queue", "queue", p.QueueURL, "err", err)
			continue
		}
		if _, err := p.SQS.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(p.QueueURL), ReceiptHandle: m.ReceiptHandle}); err != nil {
			p.Log.Warn("sqs delete failed; the redelivery will be deduplicated", "err", err)
		}
	}
	return nil
}
