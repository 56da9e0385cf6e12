package app

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/marketgate/marketgate/server/awsmp"
	"github.com/marketgate/marketgate/server/jobs"
	"github.com/marketgate/marketgate/store"
)

const azureReconcileCall = "reconciliation (List subscriptions)"

// mergeBudget is how long a run of the text indexes' jobs merges segments
// (store.MergeSearchIndex) at most: a tenth of their 10 s.
const mergeBudget = time.Second

// Names of the background jobs (metric labels; the leased ones name their
// lease, shared with older replicas: keep them).
const (
	jobRetention       = "retention"
	jobAWSInbox        = "aws.inbox"
	jobInboxKeys       = "inbox.keys"
	jobSearchIndex     = "search.index"
	jobAWSTerms        = "aws.terms"
	jobAWSMoney        = "aws.agreement_requests"
	jobAWSQueue        = "aws.sqs" // one per queue: "aws.sqs <URL>"
	jobMeteringSeal    = "metering.seal"
	jobMeteringObserve = "metering.observe"
	jobMeteringSend    = "metering.send"
	jobWebhooks        = "webhooks.deliver"
	jobWebhooksPrune   = "webhooks.prune"
	jobAlerts          = "alerts"
	jobAzureInbox      = "azure.inbox"
	jobAzureOperations = "azure.operations"
	jobAzureReconcile  = "azure.reconcile"
	jobSandboxAzure    = "sandbox.azure"
)

// jobs: every background loop, on one runner (metrics on the registry).
func (w *wiring) jobs(context.Context) error {
	r, err := jobs.New(w.st, w.owner, w.reg, w.log)
	if err != nil {
		return err
	}
	w.runner = r
	for _, j := range w.jobList() {
		if err := r.Add(context.Background(), j); err != nil {
			return err
		}
	}
	return nil
}

func (w *wiring) jobList() []jobs.Job {
	st, log, m, proc := w.st, w.log, w.meter, w.awsProc
	list := []jobs.Job{
		// Expired sessions and everything else past its retention period
		// (store.DefaultRetention), hourly.
		{Name: jobRetention, Every: time.Hour, Run: func(ctx context.Context) error {
			n, err := st.Purge(ctx, store.DefaultRetention)
			if err != nil {
				return fmt.Errorf("retention sweep: %w", err)
			}
			log.Debug("retention sweep", "sessions", n.Sessions, "sign_ins", n.SignIns, "purchase_tokens", n.PurchaseTokens,
				"tickets", n.Tickets, "failed_registrations", n.FailedRegistrations, "throttles", n.Throttles,
				"email_verifications", n.EmailVerifications, "empty_usage_hours", n.EmptyUsageHours)
			return nil
		}},
		{Name: jobAWSInbox, Every: 30 * time.Second, Run: func(ctx context.Context) error { proc.RetryDue(ctx); return nil }},
		// The inbound messages' keys for the notification log's search
		// (SQLite; until then a search tests the queued ones one by one),
		// in batches: one message at a time doubled the answer to a
		// webhook call.
		{Name: jobInboxKeys, Every: 10 * time.Second, Immediately: true, Run: func(ctx context.Context) error {
			if _, err := st.IndexPendingInboxKeys(ctx); err != nil {
				return err
			}
			// Segments merged (store/search_merge.go), a second a run at
			// most, a step at a time on the writer.
			if n, err := st.MergeInboxKeyIndex(ctx, mergeBudget); err != nil {
				return err
			} else if n > 0 {
				log.Debug("search index: message keys' segments merged", "steps", n)
			}
			// After an upgrade: the grams of the keys indexed before the
			// index's table of grams (search_grams.go).
			start := time.Now()
			n, err := st.FillInboxKeyGrams(ctx)
			if n > 0 {
				log.Info("search index: grams of the indexed message keys listed", "messages", n, "seconds", time.Since(start).Seconds())
			}
			return err
		}},
		// The subscriptions queued for the text search (SQLite): after a
		// migration that requeued every one, serve starts at once and
		// indexes them here (searches test the queued ones by LIKE until
		// then); afterwards, rows written behind the store's back.
		{Name: jobSearchIndex, Every: 10 * time.Second, Immediately: true, Run: func(ctx context.Context) error {
			start := time.Now()
			n, err := st.IndexPendingSearch(ctx)
			if n > 0 {
				log.Info("search index: queued subscriptions indexed", "subscriptions", n, "seconds", time.Since(start).Seconds())
			}
			if err != nil {
				return err
			}
			if n, err := st.MergeSearchIndex(ctx, mergeBudget); err != nil {
				return err
			} else if n > 0 {
				log.Debug("search index: subscriptions' segments merged", "steps", n)
			}
			// After an upgrade: the grams of what was indexed before the
			// index's table of grams (search_grams.go).
			start = time.Now()
			if n, err = st.FillSearchGrams(ctx); n > 0 {
				log.Info("search index: grams of the indexed subscriptions listed", "subscriptions", n, "seconds", time.Since(start).Seconds())
			}
			return err
		}},
		// Agreements' terms (free trials) are read soon after the agreement
		// is linked (an indexed look-up when there is nothing to read).
		{Name: jobAWSTerms, Every: 5 * time.Second, Run: func(ctx context.Context) error { proc.ReadTerms(ctx); return nil }},
		// Refunds, cancellation and payment requests: resend those a failure
		// left unsent (same ClientToken) and poll the pending ones.
		{Name: jobAWSMoney, Every: 5 * time.Second, Run: func(ctx context.Context) error {
			if w.awsMoney != nil {
				w.awsMoney.Track(ctx)
			}
			return nil
		}},
		// Metering: finished hours are sealed every 30 s, one replica at a
		// time (sealing is idempotent anyway); due records are sent every
		// 5 s (leased one by one, so every replica helps).
		{Name: jobMeteringSeal, Every: 30 * time.Second, Immediately: true, Lease: time.Minute, Run: func(ctx context.Context) error {
			n, err := m.Seal(ctx)
			if err != nil {
				return fmt.Errorf("metering: sealing: %w", err)
			}
			if n > 0 {
				log.Info("metering: hours sealed", "records", n)
			}
			return nil
		}},
		{Name: jobMeteringObserve, Every: 30 * time.Second, Immediately: true, Run: w.observeMetering()},
		{Name: jobMeteringSend, Every: 5 * time.Second, Immediately: true, Run: func(ctx context.Context) error {
			if _, err := m.Dispatch(ctx); err != nil {
				return fmt.Errorf("metering: dispatch: %w", err)
			}
			return nil
		}},
		// Outbound webhooks: due deliveries every second, batch after batch
		// while there are any; old deliveries pruned hourly.
		{Name: jobWebhooks, Every: time.Second, Immediately: true, Run: func(ctx context.Context) error {
			for ctx.Err() == nil {
				n, err := w.hooks.Once(ctx)
				if err != nil {
					return fmt.Errorf("webhook delivery: %w", err)
				}
				if n == 0 {
					break
				}
			}
			return nil
		}},
		{Name: jobWebhooksPrune, Every: time.Hour, Immediately: true, Run: func(ctx context.Context) error {
			return w.hooks.Prune(ctx, 30*24*time.Hour)
		}},
		// Alerts the stored state calls for, raised and sent every 30 s,
		// one replica at a time.
		{Name: jobAlerts, Every: 30 * time.Second, Lease: 2 * time.Minute, Run: func(ctx context.Context) error {
			return errors.Join(w.alertSvc.Sweep(ctx), second(w.alertSvc.Notify(ctx)))
		}},
	}
	for _, q := range w.queues {
		p := &awsmp.Poller{SQS: w.aws.SQS, QueueURL: q, Processor: proc, Log: log,
			Observe: func(err error) { w.calls.Observe("aws", "SQS ReceiveMessage", err) }}
		// A long poll (20 s) after another; 1 s doubling to a minute after a failure.
		list = append(list, jobs.Job{Name: jobAWSQueue + " " + q, Immediately: true, Backoff: time.Second, Run: p.Once})
	}
	list = append(list, w.setupJobs()...)
	return append(list, w.azureJobs()...)
}

// azureJobs are Microsoft's (none when it is not configured) and the
// simulated Microsoft marketplace's.
func (w *wiring) azureJobs() []jobs.Job {
	var list []jobs.Job
	st, log := w.st, w.log
	if az := w.az; az != nil {
		w.azureInbox = &pending{}
		list = append(list,
			// New webhook calls (nudged by the handler after it answered), then
			// the failed ones that are due again.
			jobs.Job{Name: jobAzureInbox, Every: 5 * time.Second, Run: func(ctx context.Context) error {
				for _, id := range w.azureInbox.take() {
					// Confirmed with Get Operation; a refused change is only
					// recorded (never approved), an accepted one is acted on.
					bg, cancel := context.WithTimeout(ctx, 2*time.Minute)
					if m, err := st.GetInbox(bg, id); err == nil {
						_ = az.proc.ProcessNotification(bg, m)
					}
					cancel()
				}
				az.proc.RetryDue(ctx)
				return nil
			}},
			jobs.Job{Name: jobAzureOperations, Every: 5 * time.Second, Run: func(ctx context.Context) error {
				az.proc.PollOperations(ctx)
				return nil
			}},
			// Every Microsoft subscription compared with the marketplace 30 s
			// after start and then every interval, so a lost webhook leaves a
			// subscription wrong for at most one interval.
			jobs.Job{Name: jobAzureReconcile, Delay: 30 * time.Second, Every: az.reconcileEvery, Run: func(ctx context.Context) error {
				rep, err := az.proc.Reconcile(ctx, "system")
				if ctx.Err() == nil {
					w.calls.Observe("azure", azureReconcileCall, err)
				}
				if err != nil {
					return fmt.Errorf("microsoft reconciliation: %w", err)
				}
				log.Info("microsoft reconciliation", "seen", rep.Seen, "repaired", rep.Repaired, "failed", rep.Failed)
				return nil
			}})
	}
	if w.sb != nil && w.sb.console.AzureMarketplace != nil {
		// The simulated Microsoft marketplace completes its due operations
		// and sends its webhooks.
		mk := w.sb.console.AzureMarketplace
		list = append(list, jobs.Job{Name: jobSandboxAzure, Every: time.Second, Run: func(context.Context) error { mk.Tick(); return nil }})
	}
	return list
}

// observeMetering refreshes the metering health (metrics, the Settings
// page) and warns of records close to the end of their window (at most
// every 10 minutes in the log).
func (w *wiring) observeMetering() func(context.Context) error {
	var warned time.Time
	m, log := w.meter, w.log
	return func(ctx context.Context) error {
		m.Observe(ctx)
		if _, err := m.WarnExpiring(ctx); err != nil && ctx.Err() == nil {
			log.Error("metering: expiry warnings", "err", err)
		}
		if h := m.LastHealth(); h.Expiring > 0 && time.Since(warned) > 10*time.Minute {
			warned = time.Now()
			log.Warn("metering: records close to the end of the 24-hour window", "expiring", h.Expiring, "pending", h.Pending)
		}
		return nil
	}
}

// azureNotificationReceived hands a new Microsoft notification (stored in the
// inbox and answered) to the azure.inbox job, at once.
func (w *wiring) azureNotificationReceived(inboxID uint) {
	w.azureInbox.add(inboxID)
	w.runner.Nudge(jobAzureInbox)
}

// pending are ids handed over by request handlers for a job to work on.
type pending struct {
	mu  sync.Mutex
	ids []uint
}

func (p *pending) add(id uint) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.ids = append(p.ids, id)
}

func (p *pending) take() []uint {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := p.ids
	p.ids = nil
	return out
}

func second[T any](_ T, err error) error { return err }
