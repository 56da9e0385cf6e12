package changes

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/marketgate/marketgate/server/alerts"
	"github.com/marketgate/marketgate/server/azuremp"
	"github.com/marketgate/marketgate/server/views"
	"github.com/marketgate/marketgate/server/webhooks"
	"github.com/marketgate/marketgate/store"
)

// Microsoft is what changes needs of Microsoft's marketplace
// (*azuremp.Processor): the plans it lists for a subscription, and the
// seller's own change path (StartChange), which follows the operation.
type Microsoft interface {
	AvailablePlans(ctx context.Context, sub *store.Subscription) ([]azuremp.AvailablePlan, error)
	StartChange(ctx context.Context, subID uint, action, planID string, quantity int, actor string) (*store.AzureOperation, error)
}

// Service submits and answers change requests.
type Service struct {
	Store *store.Store
	Azure Microsoft // nil: Microsoft's marketplace is not configured
}

// Input is a change a customer admin asks for.
type Input struct {
	Kind           string
	PlanID         string
	Quantity       int
	Note           string
	IdempotencyKey string
	Actor          string // the customer admin's e-mail
}

// Result is a submitted or answered change: its request and, when
// Microsoft was asked, the operation that performs it.
type Result struct {
	Request   *store.ChangeRequest
	Operation *store.AzureOperation
	// Existing: the same change was submitted before (a retry, a double
	// click, the same pending request); nothing new was started.
	Existing bool
}

// RefusedError is a change the rules refuse (Decide).
type RefusedError struct{ Reason string }

func (e *RefusedError) Error() string { return "change refused: " + e.Reason }

// Errors callers map to their answers.
var (
	ErrInvalid    = errors.New("invalid change")
	ErrOpen       = errors.New("another request of this kind is open")
	ErrNotPending = errors.New("the request is not waiting for an answer")
)

// MaxNote is the longest note or reason, in bytes.
const MaxNote = 2000

// actions maps a kind to Microsoft's operation.
var actions = map[string]string{Plan: "ChangePlan", Seats: "ChangeQuantity", Unsubscribe: "Unsubscribe"}

// Limits is the seat range a subscription's plan allows (0: no limit).
type Limits struct{ Min, Max int }

// Options is what a customer may change now: Microsoft's listed plans,
// the seat limits, and the decision for each kind.
type Options struct {
	Plans     []azuremp.AvailablePlan // Microsoft's listed plans (the current one included)
	PlansErr  error                   // Microsoft could not be asked
	Limits    Limits
	Decisions map[string]Decision
}

// Options lists what a customer may change of a subscription (loaded with
// its plan).
func (s *Service) Options(ctx context.Context, sub *store.Subscription) Options {
	o := Options{Decisions: map[string]Decision{}}
	others := -1
	if sub.Marketplace == "azure" && s.Azure != nil && sub.State == "active" {
		o.Plans, o.PlansErr = s.Azure.AvailablePlans(ctx, sub)
		if o.PlansErr == nil {
			others = len(otherPlans(sub, o.Plans))
		}
	} else if sub.Marketplace == "azure" && s.Azure == nil {
		others = 0
	}
	o.Limits = limits(sub, o.Plans)
	for _, k := range Kinds {
		o.Decisions[k] = Decide(situation(sub, k, others))
	}
	return o
}

func situation(sub *store.Subscription, kind string, others int) Situation {
	return Situation{Marketplace: sub.Marketplace, Kind: kind, Policy: PolicyFor(sub.Plan, kind), State: sub.State,
		SeatBased: sub.Plan != nil && sub.Plan.SeatBased, OtherPlans: others}
}

func currentPlanID(sub *store.Subscription) string {
	if sub.Plan != nil {
		return sub.Plan.PlanID
	}
	return ""
}

func otherPlans(sub *store.Subscription, plans []azuremp.AvailablePlan) []azuremp.AvailablePlan {
	var out []azuremp.AvailablePlan
	for _, p := range plans {
		if p.PlanID != currentPlanID(sub) && !p.IsStopSell {
			out = append(out, p)
		}
	}
	return out
}

// limits is the seat range of the subscription's plan: Microsoft's (for
// the current plan) narrowed by the seller's.
func limits(sub *store.Subscription, plans []azuremp.AvailablePlan) Limits {
	var l Limits
	for _, p := range plans {
		if p.PlanID == currentPlanID(sub) {
			l = Limits{int(p.MinQuantity), int(p.MaxQuantity)}
		}
	}
	if sub.Plan != nil {
		if sub.Plan.MinQuantity > l.Min {
			l.Min = sub.Plan.MinQuantity
		}
		if sub.Plan.MaxQuantity > 0 && (l.Max == 0 || sub.Plan.MaxQuantity < l.Max) {
			l.Max = sub.Plan.MaxQuantity
		}
	}
	if l.Min < 1 {
		l.Min = 1
	}
	if l.Max == 0 || l.Max > azuremp.MaxQuantity {
		l.Max = azuremp.MaxQuantity
	}
	return l
}

// checkFields normalises a change's fields and checks them against the
// subscription.
func checkFields(sub *store.Subscription, in *Input) error {
	in.Note = strings.TrimSpace(in.Note)
	in.PlanID = strings.TrimSpace(in.PlanID)
	if len(in.Note) > MaxNote {
		return fmt.Errorf("%w: the note is longer than %d characters", ErrInvalid, MaxNote)
	}
	if len(in.PlanID) > 64 {
		return fmt.Errorf("%w: plan_id is longer than 64 characters", ErrInvalid)
	}
	switch in.Kind {
	case Plan:
		in.Quantity = 0
		if in.PlanID == "" {
			return fmt.Errorf("%w: choose a plan", ErrInvalid)
		}
		if in.PlanID == currentPlanID(sub) {
			return fmt.Errorf("%w: the subscription is on plan %s already", ErrInvalid, in.PlanID)
		}
	case Seats:
		in.PlanID = ""
		if in.Quantity <= 0 || in.Quantity == sub.Quantity {
			return fmt.Errorf("%w: the new seat count must be positive and differ from %d", ErrInvalid, sub.Quantity)
		}
	default:
		in.PlanID, in.Quantity = "", 0
	}
	return nil
}

// check validates a change's fields against the subscription and
// Microsoft's listed plans (asked only for plan and seat changes); it
// answers how many other plans Microsoft lists (-1: not asked).
func (s *Service) check(ctx context.Context, sub *store.Subscription, in *Input) (int, error) {
	if err := checkFields(sub, in); err != nil {
		return 0, err
	}
	if sub.Marketplace != "azure" || s.Azure == nil || sub.State != "active" || in.Kind == Unsubscribe {
		return -1, nil
	}
	plans, err := s.Azure.AvailablePlans(ctx, sub)
	if err != nil {
		return 0, err
	}
	others := otherPlans(sub, plans)
	switch in.Kind {
	case Plan:
		if !listed(others, in.PlanID) {
			return 0, fmt.Errorf("%w: Microsoft does not offer plan %s for this subscription", ErrInvalid, in.PlanID)
		}
	case Seats:
		if l := limits(sub, plans); in.Quantity < l.Min || in.Quantity > l.Max {
			return 0, fmt.Errorf("%w: the seat count must be between %d and %d", ErrInvalid, l.Min, l.Max)
		}
	}
	return len(others), nil
}

func listed(plans []azuremp.AvailablePlan, id string) bool {
	for _, p := range plans {
		if p.PlanID == id {
			return true
		}
	}
	return false
}

// Submit handles a customer's change of a subscription (loaded with its
// plan, belonging to the customer): refused (RefusedError), performed now
// (a Microsoft operation), or a request for the seller. A retry with the
// same idempotency key, or the same change while its request is open,
// answers the existing request and starts nothing.
func (s *Service) Submit(ctx context.Context, sub *store.Subscription, in Input) (Result, error) {
	if sub.CustomerID == nil {
		return Result{}, &RefusedError{Reason: ReasonMarketplace}
	}
	if res, found, err := s.submitted(ctx, sub, in); found || err != nil {
		return res, err
	}
	if d := Decide(situation(sub, in.Kind, -1)); d.Outcome == Refuse {
		return Result{}, &RefusedError{Reason: d.Reason}
	}
	others, err := s.check(ctx, sub, &in)
	if err != nil {
		return Result{}, err
	}
	d := Decide(situation(sub, in.Kind, others))
	if d.Outcome == Refuse {
		return Result{}, &RefusedError{Reason: d.Reason}
	}
	if res, found, err := s.sameOpen(ctx, sub, in); found || err != nil {
		return res, err
	}
	now := s.Store.Now()
	r := &store.ChangeRequest{SubscriptionID: sub.ID, CustomerID: *sub.CustomerID, Marketplace: sub.Marketplace, Kind: in.Kind,
		PlanID: in.PlanID, Quantity: in.Quantity, Note: in.Note, Status: store.ChangePending, IdempotencyKey: in.IdempotencyKey,
		RequestedBy: in.Actor, CreatedAt: now, UpdatedAt: now}
	if d.Outcome == Perform {
		r.Status = store.ChangePerforming
	}
	err = s.Store.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.CreateChangeRequest(r); err != nil || r.Status != store.ChangePending {
			return err
		}
		return emit(tx, now, r, webhooks.ChangeRequestCreated)
	})
	if errors.Is(err, store.ErrConflict) {
		return s.raced(ctx, sub.ID, in)
	}
	if err != nil {
		return Result{}, err
	}
	if d.Outcome == Request {
		s.raise(ctx, sub, r)
		return Result{Request: r}, nil
	}
	return s.perform(ctx, r, store.ChangePerforming, store.ChangePerformed, in.Actor, nil)
}

// sameOpen finds the open request of the change's kind: the same change
// answers it, another one must wait for it (ErrOpen).
func (s *Service) sameOpen(ctx context.Context, sub *store.Subscription, in Input) (Result, bool, error) {
	open, err := s.Store.Reads(ctx).OpenChangeRequest(sub.ID, in.Kind)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return Result{}, false, nil
	case err != nil:
		return Result{}, false, err
	case open.PlanID != in.PlanID || open.Quantity != in.Quantity:
		return Result{}, false, ErrOpen
	}
	res, err := s.existing(ctx, open)
	return res, true, err
}

// submitted finds the request a retry with the same idempotency key
// submitted before.
func (s *Service) submitted(ctx context.Context, sub *store.Subscription, in Input) (Result, bool, error) {
	if in.IdempotencyKey == "" {
		return Result{}, false, nil
	}
	r, err := s.Store.Reads(ctx).ChangeRequestByKey(sub.ID, in.IdempotencyKey)
	if errors.Is(err, store.ErrNotFound) {
		return Result{}, false, nil
	} else if err != nil {
		return Result{}, false, err
	}
	res, err := s.existing(ctx, r)
	return res, true, err
}

// raced answers the request that won a concurrent submission.
func (s *Service) raced(ctx context.Context, subID uint, in Input) (Result, error) {
	tx := s.Store.Writes(ctx)
	if in.IdempotencyKey != "" {
		if r, err := tx.ChangeRequestByKey(subID, in.IdempotencyKey); err == nil {
			return s.existing(ctx, r)
		}
	}
	if r, err := tx.OpenChangeRequest(subID, in.Kind); err == nil {
		return s.existing(ctx, r)
	}
	return Result{}, ErrOpen
}

// existing answers a request submitted before, with its operation.
func (s *Service) existing(ctx context.Context, r *store.ChangeRequest) (Result, error) {
	res := Result{Request: r, Existing: true}
	if r.OperationID != "" {
		if op, err := s.Store.Reads(ctx).AzureOperationByID(r.OperationID); err == nil {
			res.Operation = op
		}
	}
	return res, nil
}

// perform asks Microsoft for the change through the seller's path
// (StartChange, which follows the operation) and moves the request from
// running to done; when Microsoft refuses, the request moves to onFail
// (failed, or pending again for the seller to retry) with the reason.
func (s *Service) perform(ctx context.Context, r *store.ChangeRequest, running, done, actor string, onFail map[string]any) (Result, error) {
	if s.Azure == nil {
		err := errors.New("microsoft's marketplace is not configured")
		s.fail(ctx, r, running, onFail, err)
		return Result{}, err
	}
	op, err := s.Azure.StartChange(ctx, r.SubscriptionID, actions[r.Kind], r.PlanID, r.Quantity, actor)
	if err != nil {
		s.fail(ctx, r, running, onFail, err)
		return Result{}, err
	}
	now := s.Store.Now()
	err = s.Store.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.MoveChangeRequest(r.ID, running, done, map[string]any{"operation_id": op.OperationID, "error": ""}); err != nil {
			return err
		}
		r.Status, r.OperationID, r.Error, r.UpdatedAt = done, op.OperationID, "", now
		if done == store.ChangeApproved {
			return emit(tx, now, r, webhooks.ChangeRequestApproved)
		}
		return nil
	})
	return Result{Request: r, Operation: op}, err
}

// fail records why performing a request failed.
func (s *Service) fail(ctx context.Context, r *store.ChangeRequest, running string, onFail map[string]any, cause error) {
	to := store.ChangeFailed
	fields := map[string]any{"error": shortError(cause)}
	if onFail != nil {
		to = store.ChangePending
		for k, v := range onFail {
			fields[k] = v
		}
	}
	if _, err := s.Store.Writes(ctx).MoveChangeRequest(r.ID, running, to, fields); err == nil {
		r.Status, r.Error = to, fields["error"].(string)
	}
}

func shortError(err error) string {
	msg := err.Error()
	if len(msg) > 500 {
		msg = msg[:500]
	}
	return msg
}

// Approve performs a pending request (Microsoft: through the seller's
// change path; AWS: the seller will send a private offer, note says how).
// When Microsoft refuses, the request stays pending with the reason.
func (s *Service) Approve(ctx context.Context, id uint, actor, note string) (Result, error) {
	note = strings.TrimSpace(note)
	if len(note) > MaxNote {
		return Result{}, fmt.Errorf("%w: the note is longer than %d characters", ErrInvalid, MaxNote)
	}
	r, err := s.Store.Writes(ctx).ChangeRequestByID(id, 0)
	if err != nil {
		return Result{}, err
	}
	now := s.Store.Now()
	decided := map[string]any{"decided_by": actor, "decided_at": now, "answer": note}
	if r.Marketplace == "aws" {
		err := s.Store.InTx(ctx, func(tx *store.Tx) error {
			moved, err := tx.MoveChangeRequest(r.ID, store.ChangePending, store.ChangeApproved, decided)
			if err != nil || !moved {
				return errors.Join(err, ErrNotPending)
			}
			r.Status, r.DecidedBy, r.DecidedAt, r.Answer = store.ChangeApproved, actor, &now, note
			return emit(tx, now, r, webhooks.ChangeRequestApproved)
		})
		return Result{Request: r}, err
	}
	moved, err := s.Store.Writes(ctx).MoveChangeRequest(r.ID, store.ChangePending, store.ChangePerforming, decided)
	if err != nil {
		return Result{}, err
	}
	if !moved {
		return Result{}, ErrNotPending
	}
	r.Status, r.DecidedBy, r.DecidedAt, r.Answer = store.ChangePerforming, actor, &now, note
	return s.perform(ctx, r, store.ChangePerforming, store.ChangeApproved, actor,
		map[string]any{"decided_by": "", "decided_at": nil, "answer": ""})
}

// Decline answers a pending request with a reason the customer sees.
func (s *Service) Decline(ctx context.Context, id uint, actor, reason string) (Result, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" || len(reason) > MaxNote {
		return Result{}, fmt.Errorf("%w: give the customer a reason (up to %d characters)", ErrInvalid, MaxNote)
	}
	r, err := s.Store.Writes(ctx).ChangeRequestByID(id, 0)
	if err != nil {
		return Result{}, err
	}
	now := s.Store.Now()
	err = s.Store.InTx(ctx, func(tx *store.Tx) error {
		moved, err := tx.MoveChangeRequest(r.ID, store.ChangePending, store.ChangeDeclined,
			map[string]any{"decided_by": actor, "decided_at": now, "answer": reason})
		if err != nil || !moved {
			return errors.Join(err, ErrNotPending)
		}
		r.Status, r.DecidedBy, r.DecidedAt, r.Answer = store.ChangeDeclined, actor, &now, reason
		return emit(tx, now, r, webhooks.ChangeRequestDeclined)
	})
	return Result{Request: r}, err
}

// emit writes the request's outbound webhook event.
func emit(tx *store.Tx, now time.Time, r *store.ChangeRequest, typ string) error {
	return webhooks.EmitSubscription(tx, now, r.SubscriptionID, now, []string{typ},
		map[string]any{"change_request": views.ChangeRequestOf(r)})
}

// raise tells the seller's team a request waits for them.
func (s *Service) raise(ctx context.Context, sub *store.Subscription, r *store.ChangeRequest) {
	what := map[string]string{Plan: "a plan change to " + r.PlanID, Seats: fmt.Sprintf("%d seats", r.Quantity), Unsubscribe: "to unsubscribe"}[r.Kind]
	title := fmt.Sprintf("Change request: %s asks for %s", r.RequestedBy, what)
	detail := fmt.Sprintf("Subscription %q (%s) — approve or decline it in the portal.", sub.Name, marketName(sub.Marketplace))
	_ = s.Store.RaiseAlert(ctx, alerts.ChangeRequested, fmt.Sprintf("change_request:%d", r.ID), title, detail, "/change-requests", 1, s.Store.Now())
}

func marketName(mp string) string {
	if mp == "aws" {
		return "AWS Marketplace"
	}
	return "Microsoft marketplace"
}
