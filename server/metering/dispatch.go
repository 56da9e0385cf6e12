package metering

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/marketgate/marketgate/server/awsmp"
	"github.com/marketgate/marketgate/server/azuremp"
	"github.com/marketgate/marketgate/server/lifecycle"
	"github.com/marketgate/marketgate/server/webhooks"
	"github.com/marketgate/marketgate/store"
)

// AWSSender is the part of the AWS client dispatch uses.
type AWSSender interface {
	BatchMeterUsage(ctx context.Context, productCode string, records []awsmp.UsageRecord) ([]awsmp.UsageResult, error)
}

// AzureSender is the part of the Microsoft client dispatch uses.
type AzureSender interface {
	BatchUsage(ctx context.Context, events []azuremp.UsageEvent) ([]azuremp.UsageResult, error)
}

// Timing of dispatch.
const (
	leaseTTL = 45 * time.Second // a crashed replica's records are sent again after this
	// callTimeout bounds one marketplace call: it ends well before the
	// lease renewed just before it, so a record is never still in flight
	// here when another replica may take it.
	callTimeout = leaseTTL - 10*time.Second
	// renewEvery: how often a pass renews the leases of the records it
	// still has queued, so a long pass keeps them (another replica would
	// otherwise claim them once the lease ran out).
	renewEvery   = leaseTTL / 3
	claimDefault = 2000
	// ExpiringSoon: a pending record this old is about to expire by the
	// 24-hour window. The warning comes ExpiryWarning before the record's
	// deadline (sendDeadline): for AWS's last hours of a month, earlier.
	ExpiringSoon = 20 * time.Hour
)

func backoff(attempts int) time.Duration {
	d := 15 * time.Second << min(attempts, 8)
	if d > 30*time.Minute {
		d = 30 * time.Minute
	}
	return d
}

// outcome is what to store for one record after a send.
type outcome struct {
	status, reason, marketplaceID string
	retry                         bool
	retryNow                      bool
	lost                          bool // not sent: this pass no longer holds the record's lease
	unsent                        bool // settled without a send (past its deadline)
}

// Dispatch sends every due pending record, in batches of at most 25 with
// bounded concurrency, and stores each result. Records are claimed with a
// lease first, a page at a time (claimLimit): the next page is claimed
// while the last batches of the one before are still in flight, so the
// calls never wait for a page to drain, and memory holds about one page
// however many records are due. The lease is renewed while the pass lasts
// and checked (and renewed) just before every marketplace call, which ends
// before the lease does: a record is in flight at one replica at a time,
// however long a pass takes. A crash leaves the lease to expire and the
// record is sent again, identically. It returns how many records reached a
// final status.
func (m *Meter) Dispatch(ctx context.Context) (int, error) {
	if err := m.expire(ctx, m.now()); err != nil {
		return 0, err
	}
	p := m.newPass()
	// Each claim starts where the one before ended (DueRecordIDs). Records
	// may become due behind it meanwhile (sent again at once, a lease of
	// another replica that ran out): when the claims from there come up
	// short, one more starts from the beginning, and the pass ends when a
	// claim from the beginning comes up short.
	var after store.RecordPos
	for round := 0; round < maxRounds; round++ {
		recs, err := m.claim(ctx, m.now(), after)
		if err != nil {
			p.fail(err)
			break
		}
		if len(recs) > 0 {
			m.sendPage(ctx, p, recs)
		}
		if p.failed() {
			break
		}
		if len(recs) < m.claimLimit() {
			if after == (store.RecordPos{}) {
				break
			}
			after = store.RecordPos{}
			continue
		}
		last := recs[len(recs)-1] // the claim is in claim order (LeaseRecords)
		after = store.RecordPos{Hour: last.Hour, ID: last.ID}
	}
	p.wg.Wait()
	return p.settled, p.err
}

// maxRounds bounds the pages of one pass (records sent again at once come
// back as due; the next pass takes what is left).
const maxRounds = 1000

// pass is one Dispatch: the calls in flight (at most the concurrency) and
// what they settled.
type pass struct {
	sem     chan struct{}
	wg      sync.WaitGroup
	mu      sync.Mutex
	settled int
	err     error
}

func (m *Meter) newPass() *pass {
	conc := m.Concurrency
	if conc <= 0 {
		conc = defaultConcurrency
	}
	return &pass{sem: make(chan struct{}, conc)}
}

func (p *pass) fail(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err == nil {
		p.err = err
	}
}

func (p *pass) failed() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err != nil
}

// defaultConcurrency: marketplace calls in flight. Each call waits on the
// marketplace (tens of milliseconds) far longer than on this process, so
// the calls overlap; 32 sends 100,000 subscriptions × 2 dimensions (8,000
// calls of 25) in about 13 s at 50 ms a call.
const defaultConcurrency = 32

// expire settles what can no longer be sent: past its deadline
// (sendDeadline: the 24-hour window and, for AWS, the month-end cutoff), or
// for a subscription that has ended. A record leased to a pass is left to
// it: that pass stores the answer of a call made in time, and settles the
// record as expired itself instead of sending it late (guarded).
func (m *Meter) expire(ctx context.Context, now time.Time) error {
	now = now.UTC()
	if err := m.expireWhere(ctx, now, "not sent within the marketplace's 24-hour window; settle it another way", windowBy(now)); err != nil {
		return err
	}
	if err := m.expireWhere(ctx, now, "past AWS's month-end cutoff (06:00 UTC on the 1st): AWS no longer takes usage of that month", monthCutoffBy(now)); err != nil {
		return err
	}
	return m.Store.Writes(ctx).SettleRecordsOfSubscriptionsIn([]string{string(lifecycle.Ended), string(lifecycle.Failed), string(lifecycle.Pending)},
		now, "the subscription is no longer active: nothing is sent")
}

func (m *Meter) observe(marketplace, call string, err error) {
	if m.OnCall == nil {
		return
	}
	var me *awsmp.MeterError
	if errors.As(err, &me) && !me.Retryable {
		err = nil // the marketplace answered; the refusal is about the records
	}
	m.OnCall(marketplace, call, err)
}

// expireWhere settles the pending records past the deadline d that no
// pass leases as expired and, in the same transaction, tells the seller's
// systems about each.
func (m *Meter) expireWhere(ctx context.Context, now time.Time, reason string, d store.RecordDeadline) error {
	return m.Store.InTx(ctx, func(tx *store.Tx) error {
		listening, err := webhooks.Listening(tx, webhooks.MeteringRecordExpired)
		if err != nil {
			return err
		}
		if !listening {
			return tx.ExpirePendingPastDeadline(d, now, reason)
		}
		ids, err := tx.PendingRecordsPastDeadline(d, now, 1000)
		if err != nil || len(ids) == 0 {
			return err
		}
		if err := tx.ExpirePendingRecords(ids, now, reason); err != nil {
			return err
		}
		return emitRecords(tx, now, webhooks.MeteringRecordExpired, ids)
	})
}

func (m *Meter) claimLimit() int {
	if m.Claim > 0 {
		return m.Claim
	}
	return claimDefault
}

// leaseToken names one claim: the process (Owner) and a random part, so
// that two passes of one process (the regular one and a cancelled
// customer's final send) never take each other's records for their own.
// It fits the lease_owner column (64 characters).
func (m *Meter) leaseToken() string {
	owner := cmp.Or(m.Owner, "marketgate")
	if len(owner) > 40 {
		owner = owner[:40]
	}
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return owner + "/" + hex.EncodeToString(b)
}

// claim leases up to claimLimit due records for this pass; the records
// carry the claim's token as their LeaseOwner.
func (m *Meter) claim(ctx context.Context, now time.Time, after store.RecordPos) ([]store.MeteringRecord, error) {
	owner := m.leaseToken()
	until := now.Add(leaseTTL)
	// Suspended subscriptions wait (Microsoft refuses them; they may be
	// reinstated within the window).
	w := m.Store.Writes(ctx)
	ids, err := w.DueRecordIDs(now, []string{string(lifecycle.Active), string(lifecycle.UnsubscribePending)}, m.claimLimit(), after)
	if err != nil {
		return nil, err
	}
	if len(ids) == 0 {
		return nil, nil
	}
	// The lease condition is re-checked by the UPDATE itself: of two
	// replicas racing for a record, one updates it.
	return w.LeaseRecords(ids, owner, now, until)
}

// batches groups the records as the APIs require: AWS by product and
// identity model, at most 25 a call; Microsoft at most 25 a call.
func batches(recs []store.MeteringRecord) [][]*store.MeteringRecord {
	var out [][]*store.MeteringRecord
	aws := map[string][]*store.MeteringRecord{}
	var azure []*store.MeteringRecord
	for i := range recs {
		r := &recs[i]
		switch r.Marketplace {
		case "aws":
			k := "legacy:" + r.AWSProductCode
			if r.AWSLicenseArn != "" {
				k = "ca:" + r.AWSProductCode
			}
			aws[k] = append(aws[k], r)
		case "azure":
			azure = append(azure, r)
		}
	}
	keys := make([]string, 0, len(aws))
	for k := range aws {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		out = append(out, chunks(aws[k], awsmp.MaxBatch)...)
	}
	return append(out, chunks(azure, azuremp.MaxUsageBatch)...)
}

// sendPage starts the batches of one claimed page, each when a call slot
// is free, and returns when the last one has started (not finished).
func (m *Meter) sendPage(ctx context.Context, p *pass, recs []store.MeteringRecord) {
	lastRenew := m.now()
	for _, b := range batches(recs) {
		p.sem <- struct{}{}
		if now := m.now(); now.Sub(lastRenew) >= renewEvery {
			// A long wait for a slot: keep the records still queued.
			if err := m.renewClaim(ctx, b[0].LeaseOwner, now); err != nil {
				m.Log.Warn("metering: renewing leases", "err", err)
			}
			lastRenew = now
		}
		p.wg.Add(1)
		go func(b []*store.MeteringRecord) {
			defer p.wg.Done()
			defer func() { <-p.sem }()
			outs := m.sendBatch(ctx, b)
			n, err := m.store(ctx, b, outs)
			p.mu.Lock()
			p.settled += n
			if err != nil && p.err == nil {
				p.err = err
			}
			p.mu.Unlock()
		}(b)
	}
}

func (m *Meter) sendBatch(ctx context.Context, b []*store.MeteringRecord) []outcome {
	if b[0].Marketplace == "aws" {
		return m.sendAWS(ctx, b)
	}
	return m.sendAzure(ctx, b)
}

// renewClaim extends the lease of every record of a claim this pass still
// holds (queued or in flight).
func (m *Meter) renewClaim(ctx context.Context, token string, now time.Time) error {
	return m.Store.Writes(ctx).RenewLeases(token, now.Add(leaseTTL))
}

// hold renews the leases of a batch just before it is sent and returns the
// records this pass still holds. A record whose lease ran out and which
// another replica claimed since carries that replica's token: it is left
// to that replica. The check and the renewal are one statement, so of two
// replicas one holds a record at any time.
func (m *Meter) hold(ctx context.Context, b []*store.MeteringRecord) ([]*store.MeteringRecord, error) {
	token := b[0].LeaseOwner
	ids := make([]uint, len(b))
	for i, r := range b {
		ids[i] = r.ID
	}
	w := m.Store.Writes(ctx)
	n, err := w.RenewHeldLeases(ids, token, m.now().Add(leaseTTL))
	if err != nil {
		return nil, err
	}
	if n == int64(len(b)) {
		return b, nil
	}
	still, err := w.HeldRecordIDs(ids, token)
	if err != nil {
		return nil, err
	}
	keep := map[uint]bool{}
	for _, id := range still {
		keep[id] = true
	}
	var held []*store.MeteringRecord
	for _, r := range b {
		if keep[r.ID] {
			held = append(held, r)
		}
	}
	return held, nil
}

// guarded sends a batch with send, but only the records whose lease this
// pass still holds (renewed just before; send's marketplace call ends
// within callTimeout) and whose deadline (sendDeadline) has not passed: a
// record past it is never sent, it is settled as expired with the
// deadline as the reason (a pass may run past 06:00 UTC on the 1st, a
// batch may wait for its turn). The others are left alone.
func (m *Meter) guarded(ctx context.Context, b []*store.MeteringRecord, send func(context.Context, []*store.MeteringRecord) []outcome) []outcome {
	out := make([]outcome, len(b))
	held, err := m.hold(ctx, b)
	if err != nil {
		m.Log.Warn("metering: lease not renewed; batch not sent", "records", len(b), "err", err)
	}
	at := map[uint]outcome{}
	now := m.now()
	live := held[:0:0]
	for _, r := range held {
		if !now.Before(sendDeadline(r.Marketplace, r.Hour)) {
			at[r.ID] = outcome{status: store.RecordExpired, reason: deadlinePassedReason(r.Marketplace, r.Hour), unsent: true}
			continue
		}
		live = append(live, r)
	}
	if len(live) == len(b) {
		return send(ctx, b)
	}
	if len(live) > 0 {
		res := send(ctx, live)
		for i, r := range live {
			at[r.ID] = res[i]
		}
	}
	for i, r := range b {
		o, ok := at[r.ID]
		if !ok {
			o = outcome{lost: true}
		}
		out[i] = o
	}
	return out
}

func retryAll(n int, reason string) []outcome {
	out := make([]outcome, n)
	for i := range out {
		out[i] = outcome{retry: true, reason: reason}
	}
	return out
}

func (m *Meter) sendAWS(ctx context.Context, b []*store.MeteringRecord) []outcome {
	if len(b) == 0 {
		return nil
	}
	if m.AWS == nil {
		return retryAll(len(b), "AWS is not configured")
	}
	// A quantity AWS cannot take (ingestion keeps every hour within it;
	// this guards hours stored before it did) is never sent as garbage.
	var sendable []*store.MeteringRecord
	out := make([]outcome, len(b))
	for i, r := range b {
		if q := math.Round(r.Quantity); q < 0 || q > MaxHourAWS {
			out[i] = outcome{status: store.RecordRejected, reason: fmt.Sprintf("quantity %.0f is outside what AWS accepts for one record (0 to %d): not sent", q, int64(MaxHourAWS))}
			continue
		}
		sendable = append(sendable, r)
	}
	if len(sendable) < len(b) {
		res := m.sendAWS(ctx, sendable)
		for i, j := 0, 0; i < len(b); i++ {
			if out[i].status == "" {
				out[i] = res[j]
				j++
			}
		}
		return out
	}
	return m.guarded(ctx, b, m.callAWS)
}

func (m *Meter) callAWS(ctx context.Context, b []*store.MeteringRecord) []outcome {
	if len(b) == 0 {
		return nil
	}
	// Each record carries the one identity model its product is metered
	// under, stamped when it was sealed (awsmp.MeteringIdentityFor): it is
	// sent exactly as stored.
	recs := make([]awsmp.UsageRecord, len(b))
	for i, r := range b {
		recs[i] = awsmp.UsageRecord{CustomerAWSAccountID: r.AWSCustomerAccountID, LicenseArn: r.AWSLicenseArn,
			CustomerIdentifier: r.AWSCustomerIdentifier, Dimension: r.Dimension, Quantity: int32(math.Round(r.Quantity)), Hour: r.Hour}
	}
	cctx, cancel := context.WithTimeout(ctx, callTimeout)
	res, err := m.AWS.BatchMeterUsage(cctx, b[0].AWSProductCode, recs)
	cancel()
	m.observe("aws", "BatchMeterUsage", err)
	if err != nil {
		return m.awsCallFailed(ctx, b, err)
	}
	out := make([]outcome, len(b))
	for i, r := range res {
		out[i] = awsOutcome(r)
	}
	return out
}

// awsCallFailed is what a failed BatchMeterUsage call means for its
// records: a refusal AWS will repeat is acted on (expired records dropped,
// a configuration problem reported, the batch split to find the bad
// record); anything else is retried.
func (m *Meter) awsCallFailed(ctx context.Context, b []*store.MeteringRecord, err error) []outcome {
	var me *awsmp.MeterError
	if !errors.As(err, &me) || me.Retryable {
		m.Log.Warn("aws metering call failed", "records", len(b), "err", err)
		return retryAll(len(b), "AWS: "+shortErr(err))
	}
	switch {
	case me.Code == "TimestampOutOfBoundsException":
		return m.expireOutOfBounds(b)
	case me.Code == "DisabledApiException" || strings.HasPrefix(me.Code, "AccessDenied") || me.Code == "UnrecognizedClientException":
		return retryAll(len(b), "AWS configuration problem: "+me.Code)
	case len(b) > 1:
		// One bad record fails the batch: split to find it.
		h := len(b) / 2
		return append(m.sendAWS(ctx, b[:h]), m.sendAWS(ctx, b[h:])...)
	default:
		return []outcome{{status: store.RecordRejected, reason: "AWS: " + me.Code}}
	}
}

// expireOutOfBounds answers a batch that failed for some records' age:
// expire those past the window, send the others again at once.
func (m *Meter) expireOutOfBounds(b []*store.MeteringRecord) []outcome {
	out := make([]outcome, len(b))
	now := m.now()
	for i, r := range b {
		if !now.Before(sendDeadline(r.Marketplace, r.Hour)) {
			out[i] = outcome{status: store.RecordExpired, reason: "AWS: timestamp out of bounds"}
		} else {
			out[i] = outcome{retry: true, retryNow: true, reason: "sent again without the expired records"}
		}
	}
	return out
}

// awsOutcome is what AWS's result for one record means.
func awsOutcome(r awsmp.UsageResult) outcome {
	switch r.Status {
	case awsmp.UsageSuccess:
		return outcome{status: store.RecordAccepted, marketplaceID: r.MeteringRecordID}
	case awsmp.UsageDuplicateRecord:
		return outcome{status: store.RecordDuplicate, reason: "AWS already holds another quantity for this hour (DuplicateRecord)"}
	case awsmp.UsageCustomerNotSubscribed:
		return outcome{status: store.RecordRejected, reason: "AWS: CustomerNotSubscribed"}
	case awsmp.UsageUnprocessed:
		return outcome{retry: true, reason: "AWS left it unprocessed"}
	default:
		return outcome{retry: true, reason: "AWS gave no result for it"}
	}
}

func (m *Meter) sendAzure(ctx context.Context, b []*store.MeteringRecord) []outcome {
	if len(b) == 0 {
		return nil
	}
	if m.Azure == nil {
		return retryAll(len(b), "Microsoft is not configured")
	}
	return m.guarded(ctx, b, m.callAzure)
}

func (m *Meter) callAzure(ctx context.Context, b []*store.MeteringRecord) []outcome {
	evs := make([]azuremp.UsageEvent, len(b))
	for i, r := range b {
		evs[i] = azuremp.UsageEvent{ResourceID: r.AzureSubscriptionID, PlanID: r.PlanID, Dimension: r.Dimension, Quantity: r.Quantity, Hour: r.Hour}
	}
	cctx, cancel := context.WithTimeout(ctx, callTimeout)
	res, err := m.Azure.BatchUsage(cctx, evs)
	cancel()
	if st := azuremp.StatusOf(err); err == nil || st == 400 {
		m.observe("azure", "batchUsageEvent", nil) // answered: refusals are per record
	} else {
		m.observe("azure", "batchUsageEvent", err)
	}
	if err != nil {
		st := azuremp.StatusOf(err)
		if st == 400 && len(b) > 1 {
			h := len(b) / 2
			return append(m.sendAzure(ctx, b[:h]), m.sendAzure(ctx, b[h:])...)
		}
		if st == 400 {
			return []outcome{{status: store.RecordRejected, reason: "Microsoft: " + shortErr(err)}}
		}
		m.Log.Warn("microsoft metering call failed", "records", len(b), "err", err)
		return retryAll(len(b), "Microsoft: "+shortErr(err))
	}
	out := make([]outcome, len(b))
	for i, r := range res {
		switch r.Status {
		case azuremp.UsageAccepted:
			out[i] = outcome{status: store.RecordAccepted, marketplaceID: r.UsageEventID}
		case azuremp.UsageDuplicate:
			if math.Abs(r.AcceptedQuantity-b[i].Quantity) < 1e-9 {
				// Our own earlier send: Microsoft holds exactly this record.
				out[i] = outcome{status: store.RecordAccepted, marketplaceID: r.UsageEventID, reason: "already held by Microsoft (resend)"}
			} else {
				out[i] = outcome{status: store.RecordConflict, marketplaceID: r.UsageEventID,
					reason: fmt.Sprintf("Microsoft already holds %g for this hour", r.AcceptedQuantity)}
			}
		case azuremp.UsageExpired:
			out[i] = outcome{status: store.RecordExpired, reason: "Microsoft: Expired"}
		case azuremp.UsageError, azuremp.UsagePending:
			out[i] = outcome{retry: true, reason: "Microsoft: " + cmp.Or(r.Message, r.Status)}
		default:
			reason := "Microsoft: " + r.Status
			if r.Message != "" {
				reason += ": " + r.Message
			}
			out[i] = outcome{status: store.RecordRejected, reason: reason}
		}
	}
	return out
}

func shortErr(err error) string {
	s := err.Error()
	if len(s) > 300 {
		s = s[:300]
	}
	return s
}

// store writes the outcomes and releases the leases; only records this
// process still leases are touched.
func (m *Meter) store(ctx context.Context, b []*store.MeteringRecord, outs []outcome) (int, error) {
	now := m.now()
	settled := 0
	// In id order, the order in which the store locks and stores them
	// (StoreRecordOutcomes): webhooks follow it too.
	order := make([]int, len(b))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(i, j int) int { return cmp.Compare(b[i].ID, b[j].ID) })
	err := m.Store.InTx(ctx, func(tx *store.Tx) error {
		batch := make([]store.IDOutcome, 0, len(b))
		for _, i := range order {
			if !outs[i].lost { // else another replica holds it now
				batch = append(batch, store.IDOutcome{ID: b[i].ID, Owner: b[i].LeaseOwner, Outcome: outs[i].recordOutcome(b[i].Attempts, now)})
			}
		}
		stored, err := tx.StoreRecordOutcomes(batch, now)
		if err != nil {
			return err
		}
		var refused []uint
		for _, i := range order {
			r, o := b[i], outs[i]
			if !stored[r.ID] || o.retry {
				continue
			}
			settled++
			switch o.status {
			case store.RecordAccepted:
			case store.RecordExpired:
				if err := emitRecords(tx, now, webhooks.MeteringRecordExpired, []uint{r.ID}); err != nil {
					return err
				}
			default:
				refused = append(refused, r.ID) // rejected, duplicate or conflict: someone should look
			}
		}
		return emitRecords(tx, now, webhooks.MeteringRecordRejected, refused)
	})
	return settled, err
}

// recordOutcome is the outcome as stored, with the next attempt's time
// when it is retried (after attempts earlier ones).
func (o outcome) recordOutcome(attempts int, now time.Time) store.RecordOutcome {
	ro := store.RecordOutcome{Unsent: o.unsent, Retry: o.retry, Status: o.status, Reason: o.reason, MarketplaceRecordID: o.marketplaceID}
	if o.retry {
		ro.NextAttemptAt = now.Add(backoff(attempts))
		if o.retryNow {
			ro.NextAttemptAt = now
		}
	}
	return ro
}

// Retry makes waiting or rejected records due now (the portal's retry):
// they are sent again, identically, while the marketplace takes them
// (sendDeadline). A chosen record past its deadline is not made due: it
// is settled as expired with the deadline and what it was before, and
// never sent (a record in flight at a replica is left to it). It returns
// how many records were made due.
func (m *Meter) Retry(ctx context.Context, ids []uint) (int64, error) {
	now := m.now()
	past := deadlineAt(now)
	statuses := []string{store.RecordPending, store.RecordRejected}
	err := m.Store.InTx(ctx, func(tx *store.Tx) error {
		gone, err := tx.RecordsPastDeadlineIn(ids, statuses, past, now)
		if err != nil || len(gone) == 0 {
			return err
		}
		done := make([]uint, 0, len(gone))
		for _, r := range gone {
			reason := deadlinePassedReason(r.Marketplace, r.Hour) + " again (it was " + r.Status
			if r.Reason != "" {
				reason += ": " + r.Reason
			}
			ok, err := tx.ExpireRecordFrom(r.ID, r.Status, now, reason+")")
			if err != nil {
				return err
			}
			if ok {
				done = append(done, r.ID)
			}
		}
		return emitRecords(tx, now, webhooks.MeteringRecordExpired, done)
	})
	if err != nil {
		return 0, err
	}
	return m.Store.Writes(ctx).MakeRecordsDue(ids, statuses, past, now)
}

// now is the store's clock in UTC: every time metering computes or binds
// is UTC, whatever the clock's location (SQLite compares times as text).
func (m *Meter) now() time.Time { return m.Store.Now().UTC() }
