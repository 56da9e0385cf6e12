package azuremp

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/marketgate/marketgate/server/lifecycle"
	"github.com/marketgate/marketgate/server/subscriptions"
	"github.com/marketgate/marketgate/store"
)

// track starts following an operation (once).
func track(tx *store.Tx, now time.Time, subID uint, op Operation, by string) error {
	if known, err := tx.AzureOperationKnown(op.ID); err != nil || known {
		return err
	}
	next := now.Add(pollFirst)
	return tx.CreateAzureOperation(&store.AzureOperation{SubscriptionID: subID, OperationID: op.ID, Action: op.Action, Source: cmp.Or(op.Source, "Azure"),
		PlanID: op.PlanID, Quantity: op.Quantity, Status: cmp.Or(op.Status, "InProgress"), RequestedBy: by, NextPollAt: &next,
		CreatedAt: now, UpdatedAt: now})
}

// finishTracked closes a followed operation with its final status.
func finishTracked(tx *store.Tx, opID, status, message string) error {
	_, err := tx.FinishAzureOperation(opID, status, message)
	return err
}

// finishOperation applies a succeeded operation (once) and closes it.
func (p *Processor) finishOperation(ctx context.Context, op Operation, at time.Time) error {
	now := p.Store.Now()
	s, err := p.Client.Get(ctx, op.SubscriptionID)
	if err != nil {
		return err
	}
	p.learnPlans(ctx, s.ID, s.OfferID, s.PlanID, op.PlanID)
	var ev lifecycle.Event
	note := "operation " + op.ID
	start, end := term(s) // read back after the change: the term is current at once
	switch op.Action {
	case "ChangePlan":
		ev = lifecycle.Event{Kind: lifecycle.AzureChangePlan, At: at, PlanID: cmp.Or(op.PlanID, s.PlanID), Quantity: op.Quantity, TermStart: start, TermEnd: end}
	case "ChangeQuantity":
		ev = lifecycle.Event{Kind: lifecycle.AzureChangeQuantity, At: at, Quantity: max(op.Quantity, s.Quantity), TermStart: start, TermEnd: end}
		if op.Quantity > 0 {
			ev.Quantity = op.Quantity
		}
	case "Unsubscribe":
		ev = lifecycle.Event{Kind: lifecycle.AzureUnsubscribe, At: at}
	default:
		ev = lifecycle.Event{Kind: lifecycle.Reconciled, At: at}
		if st, ok := marketplaceState(s.Status); ok {
			ev.Observed = st
		} else {
			return p.Store.InTx(ctx, func(tx *store.Tx) error { return finishTracked(tx, op.ID, "Succeeded", "") })
		}
	}
	return p.Store.InTx(ctx, func(tx *store.Tx) error {
		// Claim the operation: the notification and the poller may both see it
		// succeed; the row lock lets exactly one of them apply it.
		claimed, err := tx.FinishAzureOperation(op.ID, "Succeeded", "")
		if err != nil {
			return err
		}
		if !claimed {
			if known, err := tx.AzureOperationKnown(op.ID); err != nil || known {
				return err // finished before: applied then
			}
		}
		_, err = record(tx, now, s, ev, subscriptions.Meta{Source: SourceNotification, Actor: "azure", Note: note})
		return err
	})
}

// PollOperations follows the operations that are still running: every 5 s
// at first, backing off to 60 s, for at most an hour.
func (p *Processor) PollOperations(ctx context.Context) {
	now := p.Store.Now()
	due, err := p.Store.Reads(ctx).DueAzureOperations(now, 50)
	if err != nil {
		p.Log.Error("azure operations", "err", err)
		return
	}
	for _, t := range due {
		sub, err := p.Store.GetSubscription(ctx, t.SubscriptionID)
		if err != nil {
			continue
		}
		op, err := p.Client.GetOperation(ctx, sub.AzureSubscriptionID, t.OperationID)
		if err == nil {
			if op.SubscriptionID == "" {
				op.SubscriptionID = sub.AzureSubscriptionID
			}
			if op.Action == "" {
				op.Action = t.Action
			}
			switch strings.TrimSpace(op.Status) {
			case "Succeeded":
				err = p.finishOperation(ctx, op, timeOr(op.TimeStamp, now))
				if err == nil {
					continue
				}
			case "Failed", "Conflict":
				msg := cmp.Or(op.ErrorMessage, op.ErrorStatus, op.Status)
				_ = p.Store.InTx(ctx, func(tx *store.Tx) error {
					if err := finishTracked(tx, t.OperationID, op.Status, msg); err != nil {
						return err
					}
					return subscriptions.NoteTx(tx, now, t.SubscriptionID, "azure.operation_failed", now,
						fmt.Sprintf("%s %s at Microsoft: %s", t.Action, strings.ToLower(op.Status), msg), subscriptions.Meta{Source: SourcePortal, Actor: "azure"})
				})
				continue
			}
		}
		if err != nil {
			p.Log.Warn("azure operation poll", "operation", t.OperationID, "err", err)
		}
		if now.Sub(t.CreatedAt) > pollTimeout {
			_ = p.Store.InTx(ctx, func(tx *store.Tx) error {
				if err := finishTracked(tx, t.OperationID, "TimedOut", "no final status from Microsoft within an hour"); err != nil {
					return err
				}
				return subscriptions.NoteTx(tx, now, t.SubscriptionID, "azure.operation_failed", now,
					t.Action+" timed out: Microsoft gave no final status within an hour", subscriptions.Meta{Source: SourcePortal, Actor: "system"})
			})
			continue
		}
		wait := pollFirst << min(t.Attempts, 4)
		if wait > pollMax {
			wait = pollMax
		}
		next := now.Add(wait)
		_ = p.Store.Writes(ctx).PollAzureOperationLater(t.ID, t.Attempts+1, cmp.Or(op.Status, t.Status), next)
	}
}

func timeOr(t, def time.Time) time.Time {
	if t.IsZero() {
		return def
	}
	return t
}

// ErrInvalidChange: a publisher change the marketplace would refuse.
var ErrInvalidChange = errors.New("invalid change")

// MaxQuantity is the largest seat count a seller's quantity change may ask for.
const MaxQuantity = 1_000_000

// CheckChange checks a seller's change request before anything is asked
// of Microsoft: ChangePlan needs a plan id, ChangeQuantity a quantity
// between 1 and MaxQuantity, and nothing else is a change.
func CheckChange(action, planID string, quantity int) error {
	switch action {
	case "ChangePlan":
		if strings.TrimSpace(planID) == "" {
			return fmt.Errorf("%w: plan_id is required", ErrInvalidChange)
		}
	case "ChangeQuantity":
		if quantity <= 0 || quantity > MaxQuantity {
			return fmt.Errorf("%w: quantity must be between 1 and 1000000", ErrInvalidChange)
		}
	case "Unsubscribe":
	default:
		return fmt.Errorf("%w: action must be ChangePlan, ChangeQuantity or Unsubscribe", ErrInvalidChange)
	}
	return nil
}

// AvailablePlans lists the plans Microsoft offers one of our
// subscriptions to switch to.
func (p *Processor) AvailablePlans(ctx context.Context, sub *store.Subscription) ([]AvailablePlan, error) {
	return p.Client.ListAvailablePlans(ctx, sub.AzureSubscriptionID)
}

// requestChange checks a change against the subscription and asks
// Microsoft for it; it returns Microsoft's operation id.
func (p *Processor) requestChange(ctx context.Context, sub *store.Subscription, action, planID string, quantity int) (string, error) {
	switch action {
	case "ChangePlan":
		if err := p.checkPlanOffered(ctx, sub, planID); err != nil {
			return "", err
		}
		return p.Client.ChangePlan(ctx, sub.AzureSubscriptionID, planID)
	case "ChangeQuantity":
		if quantity <= 0 || quantity == sub.Quantity {
			return "", fmt.Errorf("%w: the new quantity must be positive and differ from %d", ErrInvalidChange, sub.Quantity)
		}
		return p.Client.ChangeQuantity(ctx, sub.AzureSubscriptionID, quantity)
	case "Unsubscribe":
		return p.Client.Unsubscribe(ctx, sub.AzureSubscriptionID)
	default:
		return "", fmt.Errorf("%w: unknown action %q", ErrInvalidChange, action)
	}
}

// checkPlanOffered refuses a plan change to the current plan or to a plan
// Microsoft does not offer this customer (listAvailablePlans).
func (p *Processor) checkPlanOffered(ctx context.Context, sub *store.Subscription, planID string) error {
	if sub.Plan != nil && sub.Plan.PlanID == planID {
		return fmt.Errorf("%w: the subscription is already on plan %s", ErrInvalidChange, planID)
	}
	plans, err := p.Client.ListAvailablePlans(ctx, sub.AzureSubscriptionID)
	if err != nil {
		return err
	}
	for _, pl := range plans {
		if pl.PlanID == planID {
			return nil
		}
	}
	return fmt.Errorf("%w: plan %s is not offered to this customer", ErrInvalidChange, planID)
}

// StartChange asks Microsoft for a plan change, a quantity change or a
// cancellation of one of our subscriptions and follows the operation.
// The request is checked first (CheckChange).
func (p *Processor) StartChange(ctx context.Context, subID uint, action, planID string, quantity int, actor string) (*store.AzureOperation, error) {
	if err := CheckChange(action, planID, quantity); err != nil {
		return nil, err
	}
	sub, err := p.Store.Reads(ctx).SubscriptionDetail(subID)
	if err != nil {
		return nil, err
	}
	if sub.Marketplace != "azure" {
		return nil, fmt.Errorf("%w: not a Microsoft subscription", ErrInvalidChange)
	}
	if sub.State != string(lifecycle.Active) && !(action == "Unsubscribe" && sub.State == string(lifecycle.Suspended)) {
		return nil, fmt.Errorf("%w: the subscription is %s", ErrInvalidChange, sub.State)
	}
	opID, err := p.requestChange(ctx, sub, action, planID, quantity)
	if err != nil {
		return nil, err
	}
	now := p.Store.Now()
	var t *store.AzureOperation
	err = p.Store.InTx(ctx, func(tx *store.Tx) error {
		if err := track(tx, now, sub.ID, Operation{ID: opID, Action: action, Source: "Partner", PlanID: planID, Quantity: quantity, Status: "InProgress"}, actor); err != nil {
			return err
		}
		summary := map[string]string{"ChangePlan": "Plan change to " + planID, "ChangeQuantity": fmt.Sprintf("Quantity change to %d", quantity),
			"Unsubscribe": "Cancellation"}[action] + " requested at Microsoft"
		if err := subscriptions.NoteTx(tx, now, sub.ID, "azure.operation_started", now, summary, subscriptions.Meta{Source: SourcePortal, Actor: actor}); err != nil {
			return err
		}
		t, err = tx.AzureOperationByID(opID)
		return err
	})
	return t, err
}
