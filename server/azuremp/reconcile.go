package azuremp

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/marketgate/marketgate/server/lifecycle"
	"github.com/marketgate/marketgate/server/subscriptions"
	"github.com/marketgate/marketgate/store"
)

// reconcileOne brings our record of one subscription in line with
// Microsoft's; it returns our id and whether anything was repaired.
func (p *Processor) reconcileOne(ctx context.Context, s Subscription, meta subscriptions.Meta) (*uint, bool, error) {
	st, ok := marketplaceState(s.Status)
	if !ok {
		return nil, false, nil
	}
	p.learnPlans(ctx, s.ID, s.OfferID, s.PlanID)
	repaired := false
	now := p.Store.Now()
	start, end := term(s)
	var id uint
	err := p.Store.InTx(ctx, func(tx *store.Tx) error {
		cur, err := tx.AzureSubscription(s.ID)
		if errors.Is(err, store.ErrNotFound) {
			cur, err = &store.Subscription{}, nil
		}
		if err != nil {
			return err
		}
		drift := driftOf(cur, s, st, end)
		if len(drift) == 0 {
			id = cur.ID
			return nil
		}
		repaired = true
		if cur.ID == 0 {
			if _, err := record(tx, now, s, lifecycle.Event{Kind: lifecycle.AzureResolved, At: now, PlanID: s.PlanID, Quantity: s.Quantity,
				TermStart: start, TermEnd: end}, meta); err != nil {
				return err
			}
		}
		m := meta
		m.Note = "repaired: " + strings.Join(drift, ", ")
		got, err := record(tx, now, s, lifecycle.Event{Kind: lifecycle.Reconciled, At: now, Observed: st, PlanID: s.PlanID, Quantity: s.Quantity,
			TermStart: start, TermEnd: end}, m)
		if err != nil {
			return err
		}
		id = got.ID
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	return &id, repaired, nil
}

// driftOf lists how our record (cur, ID 0 when unknown) differs from
// Microsoft's subscription s in state st with term end end.
func driftOf(cur *store.Subscription, s Subscription, st lifecycle.State, end time.Time) []string {
	if cur.ID == 0 {
		return []string{"not known here"}
	}
	var drift []string
	if cur.State != string(st) {
		drift = append(drift, "state "+cur.State+" → "+string(st))
	}
	if s.PlanID != "" && (cur.Plan == nil || cur.Plan.PlanID != s.PlanID) {
		drift = append(drift, "plan → "+s.PlanID)
	}
	if s.Quantity > 0 && cur.Quantity != s.Quantity {
		drift = append(drift, fmt.Sprintf("quantity %d → %d", cur.Quantity, s.Quantity))
	}
	// Microsoft's term dates are dates: compare the days.
	if (st == lifecycle.Active || st == lifecycle.Suspended) && !end.IsZero() && (cur.TermEnd == nil || !sameDay(*cur.TermEnd, end)) {
		drift = append(drift, "term end → "+end.Format("2006-01-02"))
	}
	return drift
}

// ReconcileReport is what a reconciliation run did.
type ReconcileReport struct {
	Seen     int       `json:"seen"`
	Repaired int       `json:"repaired"`
	Failed   int       `json:"failed"`
	Started  time.Time `json:"started_at"`
	Finished time.Time `json:"finished_at"`
}

// Reconcile lists every subscription at Microsoft (all pages) and repairs
// drift in state, plan, quantity and term, each repair on the timeline.
func (p *Processor) Reconcile(ctx context.Context, actor string) (ReconcileReport, error) {
	rep := ReconcileReport{Started: p.Store.Now()}
	err := p.Client.List(ctx, func(page []Subscription) error {
		for _, s := range page {
			rep.Seen++
			_, repaired, err := p.reconcileOne(ctx, s, subscriptions.Meta{Source: SourceReconcile, Actor: actor})
			if err != nil {
				rep.Failed++
				p.Log.Error("azure reconcile", "subscription", s.ID, "err", err)
				continue
			}
			if repaired {
				rep.Repaired++
			}
		}
		return nil
	})
	rep.Finished = p.Store.Now()
	return rep, err
}

func sameDay(a, b time.Time) bool {
	ay, am, ad := a.UTC().Date()
	by, bm, bd := b.UTC().Date()
	return ay == by && am == bm && ad == bd
}
