package metering

import (
	"context"
	"time"

	"github.com/marketgate/marketgate/server/awsmp"
	"github.com/marketgate/marketgate/server/lifecycle"
	"github.com/marketgate/marketgate/store"
)

// sealMargin keeps sealing a little behind the point where ingestion stops
// counting an event in its own hour, so the two never meet on one row.
const sealMargin = time.Minute

// sealable is the latest hour that may be sealed at now.
func (m *Meter) sealable(now time.Time) time.Time {
	return now.Add(-m.grace() - sealMargin).Truncate(time.Hour).Add(-time.Hour)
}

type meteredSub struct {
	store.Subscription
	dims []string
}

// Seal turns every finished hour (after the grace period) into metering
// records: one per metered dimension of every active or unsubscribe-pending
// subscription, zero when idle, plus any hour that holds usage. A
// subscription whose customer cancelled (unsubscribe pending) has its
// current hour sealed at once so its final usage goes out now. It returns
// how many records it created. Safe to run on several replicas at once.
func (m *Meter) Seal(ctx context.Context) (int, error) {
	now := m.now()
	last := m.sealable(now)
	from, regular, err := m.sealFrom(ctx, last, now)
	if err != nil {
		return 0, err
	}
	created := 0
	if first := maxTime(from, regular); !first.After(last) {
		// Every metered subscription gets each hour from regular on, zero
		// when idle (the hours before, caught up, only where they hold
		// usage).
		n, err := m.sealMetered(ctx, first, last, now)
		created += n
		if err != nil {
			return created, err
		}
	}
	for h := from; !h.After(last); h = h.Add(time.Hour) {
		// What is still open in the hour: the usage of subscriptions not
		// metered (ended, suspended), or all of it before regular.
		n, err := m.sealHour(ctx, h, nil, now, false)
		created += n
		if err != nil {
			return created, err
		}
		if err := m.Store.SetSetting(ctx, "metering.sealed_through", h.Format(time.RFC3339)); err != nil {
			return created, err
		}
	}
	// Cancelled customers: their last hours now (AWS gives about an hour).
	final, _, err := m.meteredSubscriptions(ctx, 0, 0, lifecycle.UnsubscribePending)
	if err != nil {
		return created, err
	}
	n, err := m.sealFinalHours(ctx, final, last, now)
	return created + n, err
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// sealPage is how many subscriptions sealMetered reads at a time.
var sealPage = 2000

// sealMetered seals the hours first to last for every metered
// subscription (active or unsubscribe pending), reading them once, a page
// at a time: all at once held 200 MB at a million subscriptions. (An hour
// counts as sealed, metering.sealed_through, only once Seal has sealed
// what else it holds too; a crash before seals it again, which finds its
// series sealed and their records made.)
func (m *Meter) sealMetered(ctx context.Context, first, last, now time.Time) (int, error) {
	created := 0
	for after := uint(0); ; {
		page, next, err := m.meteredSubscriptions(ctx, after, sealPage, lifecycle.Active, lifecycle.UnsubscribePending)
		if err != nil {
			return created, err
		}
		for h := first; !h.After(last); h = h.Add(time.Hour) {
			targets, _ := meteredTargets(page, h)
			n, err := m.sealTargets(ctx, h, targets, now, false)
			created += n
			if err != nil {
				return created, err
			}
		}
		if next == 0 {
			return created, nil
		}
		after = next
	}
}

// sealFrom is the first hour to seal, and regular the first from which
// every metered subscription gets a record (zeros too). It is the hour
// after the last one sealed, at most a day back (older hours could not be
// sent); the very first run starts with the latest finished hour (last),
// not with hours before Marketgate metered anything. Usage reported for an
// hour before that (the first run, or an event for an earlier hour that was
// never sealed) is sealed too: no hour with usage is ever left behind.
func (m *Meter) sealFrom(ctx context.Context, last, now time.Time) (from, regular time.Time, err error) {
	from = last
	v, ok, err := m.Store.GetSetting(ctx, "metering.sealed_through")
	if err != nil {
		return from, regular, err
	}
	if ok {
		if t, err := time.Parse(time.RFC3339, v); err == nil {
			from = t.Add(time.Hour)
		}
	}
	regular = from
	oldestOpen, ok, err := m.Store.Reads(ctx).OldestOpenUsageHour(from)
	if err != nil {
		return from, regular, err
	}
	if ok && oldestOpen.Before(from) {
		from = oldestOpen.UTC()
	}
	if oldest := now.Add(-usageWindow).Truncate(time.Hour); from.Before(oldest) {
		from = oldest
	}
	return from, regular, nil
}

// sealFinalHours seals, for cancelled customers, the hours after last up
// to the current one.
func (m *Meter) sealFinalHours(ctx context.Context, final []meteredSub, last, now time.Time) (int, error) {
	if len(final) == 0 {
		return 0, nil
	}
	created := 0
	for h := last.Add(time.Hour); !h.After(now.Truncate(time.Hour)); h = h.Add(time.Hour) {
		n, err := m.sealHour(ctx, h, final, now, true)
		if err != nil {
			return created, err
		}
		created += n
	}
	return created, nil
}

// meteredSubscriptions lists the subscriptions in the states (of those
// that get a record for every hour: active or unsubscribe pending) on a
// plan with metered dimensions, in id order: those after the id after, at
// most limit of them read (0: all). next is the last id read when there
// may be more, else 0.
func (m *Meter) meteredSubscriptions(ctx context.Context, after uint, limit int, states ...lifecycle.State) (out []meteredSub, next uint, err error) {
	names := make([]string, len(states))
	for i, st := range states {
		names[i] = string(st)
	}
	subs, err := m.Store.Reads(ctx).SubscriptionsInStatesWithPlan(names, after, limit)
	if err != nil {
		return nil, 0, err
	}
	if limit > 0 && len(subs) == limit {
		next = subs[len(subs)-1].ID
	}
	out = make([]meteredSub, 0, len(subs))
	for _, s := range subs {
		var dims []string
		for d := range meteredDimensions(s.Plan, s.Offer != nil && s.Offer.Contract) {
			dims = append(dims, d)
		}
		if len(dims) > 0 {
			out = append(out, meteredSub{Subscription: s, dims: dims})
		}
	}
	return out, next, nil
}

// sealTarget is one series (subscription, dimension) an hour is sealed for.
type sealTarget struct {
	sub *store.Subscription
	dim string
}

// sealHour seals one hour for the given subscriptions and for any other
// subscription with usage in it.
func (m *Meter) sealHour(ctx context.Context, hour time.Time, subs []meteredSub, now time.Time, final bool) (int, error) {
	targets, seen := meteredTargets(subs, hour)
	if !final {
		others, err := m.unmeteredTargets(ctx, hour, seen)
		if err != nil {
			return 0, err
		}
		targets = append(targets, others...)
	}
	return m.sealTargets(ctx, hour, targets, now, final)
}

// sealTargets seals the hour of the series, 400 to a transaction.
func (m *Meter) sealTargets(ctx context.Context, hour time.Time, targets []sealTarget, now time.Time, final bool) (int, error) {
	created := 0
	for start := 0; start < len(targets); start += 400 {
		end := min(start+400, len(targets))
		n, err := m.sealBatch(ctx, hour, targets[start:end], now, final)
		created += n
		if err != nil {
			return created, err
		}
	}
	return created, nil
}

// meteredTargets lists the series of the subscriptions that existed in the
// hour, and marks them seen.
func meteredTargets(subs []meteredSub, hour time.Time) ([]sealTarget, map[hourKey]bool) {
	var targets []sealTarget
	seen := map[hourKey]bool{}
	for i := range subs {
		s := &subs[i]
		if s.CreatedAt.After(hour.Add(time.Hour)) {
			continue // did not exist yet in that hour
		}
		for _, d := range s.dims {
			k := hourKey{s.ID, d, hour.Unix()}
			seen[k] = true
			targets = append(targets, sealTarget{&s.Subscription, d})
		}
	}
	return targets, seen
}

// unmeteredTargets lists the series with usage in the hour that are not
// seen: usage of subscriptions that are no longer metered (ended,
// suspended) is sealed too, so it is visible; it is not sent.
func (m *Meter) unmeteredTargets(ctx context.Context, hour time.Time, seen map[hourKey]bool) ([]sealTarget, error) {
	open, err := m.Store.Reads(ctx).OpenUsageHours(hour)
	if err != nil {
		return nil, err
	}
	var extra []uint
	pairs := map[uint][]string{}
	for _, o := range open {
		if !seen[hourKey{o.SubscriptionID, o.Dimension, hour.Unix()}] {
			extra = append(extra, o.SubscriptionID)
			pairs[o.SubscriptionID] = append(pairs[o.SubscriptionID], o.Dimension)
		}
	}
	if len(extra) == 0 {
		return nil, nil
	}
	others, err := m.Store.Reads(ctx).SubscriptionsWithPlanByID(dedupe(extra))
	if err != nil {
		return nil, err
	}
	var targets []sealTarget
	for i := range others {
		for _, d := range pairs[others[i].ID] {
			targets = append(targets, sealTarget{&others[i], d})
		}
	}
	return targets, nil
}

// sealBatch seals the hour of a batch of series and creates their records,
// in one transaction. It returns how many records it created.
func (m *Meter) sealBatch(ctx context.Context, hour time.Time, batch []sealTarget, now time.Time, final bool) (int, error) {
	created := 0
	err := m.Store.InTx(ctx, func(tx *store.Tx) error {
		// Seal the hour rows and read their totals in one statement.
		series := make([]store.UsageSeries, len(batch))
		for i, t := range batch {
			series[i] = store.UsageSeries{SubscriptionID: t.sub.ID, Dimension: t.dim}
		}
		totals, err := tx.SealUsageHours(hour, series, now)
		if err != nil {
			return err
		}
		recs := make([]store.MeteringRecord, 0, len(batch))
		for _, t := range batch {
			q := totals[store.UsageSeries{SubscriptionID: t.sub.ID, Dimension: t.dim}]
			recs = append(recs, t.record(hour, q, &now, final))
		}
		n, err := tx.CreateMeteringRecords(recs)
		if err != nil {
			return err
		}
		created += int(n)
		return nil
	})
	return created, err
}

// record is the metering record of the series' sealed hour, with total q;
// settled at once (now) when nothing is to be sent.
func (t sealTarget) record(hour time.Time, q float64, now *time.Time, final bool) store.MeteringRecord {
	r := store.MeteringRecord{SubscriptionID: t.sub.ID, Marketplace: t.sub.Marketplace, Dimension: t.dim, Hour: hour, Quantity: q,
		Status: store.RecordPending, Final: final, AzureSubscriptionID: t.sub.AzureSubscriptionID, CreatedAt: *now, UpdatedAt: *now}
	var missing string
	if t.sub.Marketplace == "aws" {
		// The record carries one identity model only, chosen for
		// the product in one place (awsmp.MeteringIdentityFor).
		id := awsmp.MeteringIdentityFor(awsmp.OfferModel(t.sub), t.sub)
		r.AWSProductCode = t.sub.AWSProductCode // one product per call (R2), both models
		r.AWSCustomerIdentifier = id.CustomerIdentifier
		r.AWSCustomerAccountID, r.AWSLicenseArn = id.CustomerAWSAccountID, id.LicenseArn
		missing = id.Missing
	}
	if t.sub.Plan != nil {
		r.PlanID = t.sub.Plan.PlanID
	}
	st := lifecycle.State(t.sub.State)
	switch {
	case st != lifecycle.Active && st != lifecycle.UnsubscribePending && st != lifecycle.Suspended:
		r.Status, r.Reason = store.RecordNotActive, "the subscription is "+t.sub.State+": nothing is sent"
		r.SettledAt = now
	case missing != "":
		r.Status, r.Reason = store.RecordRejected, "cannot be sent to AWS: "+missing
		r.SettledAt = now
	case t.sub.Marketplace == "azure" && q == 0:
		r.Status, r.Reason = store.RecordNotSentZero, "Microsoft does not accept zero: idle hour kept here"
		r.SettledAt = now
	}
	return r
}

// SealFinal seals a cancelled customer's hours up to the current one and
// sends them at once (AWS unsubscribe-pending: about an hour remains).
func (m *Meter) SealFinal(ctx context.Context, subscriptionID uint) error {
	subs, _, err := m.meteredSubscriptions(ctx, 0, 0, lifecycle.UnsubscribePending)
	if err != nil {
		return err
	}
	var mine []meteredSub
	for _, s := range subs {
		if s.ID == subscriptionID && s.State == string(lifecycle.UnsubscribePending) {
			mine = append(mine, s)
		}
	}
	if len(mine) == 0 {
		return nil
	}
	now := m.now()
	if _, err := m.sealFinalHours(ctx, mine, m.sealable(now), now); err != nil {
		return err
	}
	_, err = m.Dispatch(ctx)
	return err
}
