package azuremp

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/marketgate/marketgate/server/lifecycle"
	"github.com/marketgate/marketgate/server/subscriptions"
	"github.com/marketgate/marketgate/store"
)

// ParseNotification reads the body of a Microsoft notification (the call
// Microsoft's documentation names the webhook).
func ParseNotification(body []byte) (Operation, error) {
	var op Operation
	if err := json.Unmarshal(body, &op); err != nil {
		return op, fmt.Errorf("the body is not a JSON object: %w", err)
	}
	if op.ID == "" || op.SubscriptionID == "" || op.Action == "" {
		return op, errors.New("a webhook call needs id, subscriptionId and action") // Microsoft's word, in the answer
	}
	return op, nil
}

// NotificationAnswer is what to answer Microsoft.
type NotificationAnswer struct {
	Status  int
	Message string
	InboxID uint
	New     bool // first delivery: process it (after answering)
}

// callKey is the dedup key of one notification before Get Operation has
// confirmed it: its exact bytes. Only a confirmed operation claims "op:"+id
// (claimOperation), so a forged call that reuses a genuine operation id
// cannot suppress Microsoft's own delivery (reference §6.3, §6.4).
func callKey(body []byte) string {
	h := sha256.Sum256(body)
	return "call:" + hex.EncodeToString(h[:])
}

func operationKey(opID string) string { return "op:" + opID }

// answerOf is what a stored call was answered; a redelivery gets the same.
// Calls stored before answers were kept: 400 for a refused change, else 200.
func answerOf(m *store.InboxMessage) NotificationAnswer {
	switch {
	case m.AnswerStatus != 0:
		return NotificationAnswer{Status: m.AnswerStatus, Message: m.AnswerBody, InboxID: m.ID}
	case strings.HasPrefix(m.Error, policyRejected):
		return NotificationAnswer{Status: http.StatusBadRequest, Message: strings.TrimPrefix(m.Error, policyRejected), InboxID: m.ID}
	}
	return NotificationAnswer{Status: http.StatusOK, InboxID: m.ID}
}

// ReceiveNotification stores an authenticated notification in the inbox and
// decides a customer's plan or quantity change by the plan's policy: a
// rejection is answered 400, which fails the operation. A redelivery (the
// operation already confirmed, or the same call byte for byte) is answered
// what the first delivery was answered, and changes nothing.
func (p *Processor) ReceiveNotification(ctx context.Context, body []byte, headers string) (NotificationAnswer, error) {
	op, err := ParseNotification(body)
	if err != nil {
		return NotificationAnswer{Status: http.StatusBadRequest, Message: err.Error()}, nil
	}
	// One statement for both keys: processing a stored call moves its key
	// from the call to the operation it claims (claimOperation), so two
	// lookups could miss it between them and store a redelivery twice.
	prior, err := p.Store.Reads(ctx).InboxByKey(SourceNotification, operationKey(op.ID), callKey(body))
	if err == nil {
		return answerOf(prior), nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return NotificationAnswer{}, err
	}
	ans := NotificationAnswer{Status: http.StatusOK}
	if (op.Action == "ChangePlan" || op.Action == "ChangeQuantity") && !strings.EqualFold(op.Source, "Partner") &&
		!strings.EqualFold(op.Status, "Succeeded") {
		if reason := p.policy(ctx, op); reason != "" {
			ans = NotificationAnswer{Status: http.StatusBadRequest, Message: reason}
		}
	}
	m := &store.InboxMessage{Marketplace: "azure", Source: SourceNotification, DedupKey: callKey(body), Action: op.Action,
		ContentType: "application/json", Body: string(body), Headers: headers, AnswerStatus: ans.Status, AnswerBody: ans.Message}
	if ans.Status != http.StatusOK {
		m.Error = policyRejected + ans.Message
	}
	msg, isNew, err := p.Store.ReceiveInbox(ctx, m)
	if err != nil {
		return NotificationAnswer{}, err
	}
	if !isNew {
		return answerOf(msg), nil // the same call, stored meanwhile
	}
	ans.InboxID, ans.New = msg.ID, true
	return ans, nil
}

// policyRejected prefixes the stored reason of a customer change the plan refused.
const policyRejected = "rejected: "

// RejectedByPolicy reports whether a stored notification was refused by
// the plan's policy when it arrived.
func RejectedByPolicy(m *store.InboxMessage) bool {
	return m.Source == SourceNotification && (m.AnswerStatus == http.StatusBadRequest || strings.HasPrefix(m.Error, policyRejected))
}

// RejectionReason is the reason a refused customer change was given.
func RejectionReason(m *store.InboxMessage) string {
	return answerOf(m).Message
}

// policy says why a customer's change must be rejected ("" to accept).
func (p *Processor) policy(ctx context.Context, op Operation) string {
	sub, err := p.Store.Reads(ctx).AzureSubscription(op.SubscriptionID)
	if err != nil {
		return "" // unknown here: accept; the landing page or reconciliation will record it
	}
	pl := sub.Plan
	if pl == nil {
		return ""
	}
	switch op.Action {
	case "ChangePlan":
		if pl.RejectPlanChange {
			return fmt.Sprintf("plan %s cannot be changed by the customer; contact the seller", pl.PlanID)
		}
	case "ChangeQuantity":
		if pl.RejectQuantityChange {
			return fmt.Sprintf("the seat count of plan %s cannot be changed by the customer; contact the seller", pl.PlanID)
		}
		if pl.MinQuantity > 0 && op.Quantity > 0 && op.Quantity < pl.MinQuantity {
			return fmt.Sprintf("plan %s needs at least %d seats", pl.PlanID, pl.MinQuantity)
		}
		if pl.MaxQuantity > 0 && op.Quantity > pl.MaxQuantity {
			return fmt.Sprintf("plan %s allows at most %d seats", pl.PlanID, pl.MaxQuantity)
		}
	}
	return ""
}

// ProcessNotification confirms a stored notification with Get Operation and acts
// on what Microsoft says, never on the payload alone. Only a confirmed
// call claims its operation id and touches the subscription; an
// unconfirmed one is marked rejected_unverified and writes nothing else.
func (p *Processor) ProcessNotification(ctx context.Context, m *store.InboxMessage) error {
	call, err := ParseNotification([]byte(m.Body))
	if err != nil {
		return p.Store.FinishInbox(ctx, m.ID, store.InboxFailed, err.Error(), nil, nil)
	}
	rejected := RejectedByPolicy(m)
	op, err := p.Client.GetOperation(ctx, call.SubscriptionID, call.ID)
	if unconfirmed(call, op, err) {
		p.Log.Warn("azure notification not confirmed by Get Operation", "inbox_id", m.ID, "operation", call.ID)
		if rejected {
			// Keep the refusal on the message: it must never be replayed as an approval.
			return p.Store.FinishInbox(ctx, m.ID, store.InboxFailed, policyRejected+RejectionReason(m)+" (rejected_unverified: Get Operation does not confirm this call)", nil, nil)
		}
		return p.Store.FinishInbox(ctx, m.ID, store.InboxFailed, "rejected_unverified: Get Operation does not confirm this call", nil, nil)
	}
	if err != nil {
		return p.retryConfirmation(ctx, m, rejected, err)
	}
	if op.SubscriptionID == "" {
		op.SubscriptionID = call.SubscriptionID
	}
	dup, err := p.claimOperation(ctx, m, call.ID)
	if err != nil {
		return p.retryConfirmation(ctx, m, rejected, err)
	}
	if dup != 0 {
		// Another delivery of this operation (a retry with a different body) was confirmed first.
		reason := fmt.Sprintf("duplicate of inbox message %d (the same operation)", dup)
		if rejected {
			reason = policyRejected + RejectionReason(m) + "; " + reason
		}
		return p.Store.FinishInbox(ctx, m.ID, store.InboxIgnored, reason, nil, nil)
	}
	at := op.TimeStamp
	if at.IsZero() {
		at = call.TimeStamp
	}
	meta := subscriptions.Meta{Source: SourceNotification, Actor: "azure", Payload: m.Body, InboxID: &m.ID}
	if rejected {
		return p.noteRejected(ctx, m, call, at, meta)
	}
	subID, status, reason, err := p.act(ctx, op, at, meta)
	if err != nil {
		return p.retryLater(ctx, m, err)
	}
	return p.Store.FinishInbox(ctx, m.ID, status, reason, subID, nil)
}

// unconfirmed tells whether Get Operation's answer fails to confirm the
// call: the operation is unknown, or names another subscription or action.
func unconfirmed(call, op Operation, err error) bool {
	if StatusOf(err) == http.StatusNotFound {
		return true
	}
	return err == nil && (!strings.EqualFold(op.SubscriptionID, call.SubscriptionID) ||
		!strings.EqualFold(op.Action, call.Action))
}

// retryConfirmation keeps a message for another confirmation attempt,
// a refused change with its refusal kept.
func (p *Processor) retryConfirmation(ctx context.Context, m *store.InboxMessage, rejected bool, err error) error {
	if rejected {
		return p.retryRejected(ctx, m, err)
	}
	return p.retryLater(ctx, m, err)
}

// claimOperation makes a confirmed call the one delivery of its operation:
// its dedup key becomes "op:"+id. It returns the id of the message that
// claimed the operation before (0 when this one did).
func (p *Processor) claimOperation(ctx context.Context, m *store.InboxMessage, opID string) (uint, error) {
	key := operationKey(opID)
	if m.DedupKey == key {
		return 0, nil // claimed before (a replay)
	}
	other := func() (uint, error) { return p.Store.Writes(ctx).InboxIDWithKey(SourceNotification, key, m.ID) }
	if id, err := other(); err != nil || id != 0 {
		return id, err
	}
	if err := p.Store.Writes(ctx).SetInboxKey(m.ID, key); err != nil {
		if id, oerr := other(); oerr == nil && id != 0 {
			return id, nil // claimed meanwhile by a concurrent delivery (unique index)
		}
		return 0, err
	}
	m.DedupKey = key
	return 0, nil
}

// noteRejected records a refused customer change, once Get Operation has
// confirmed it, on the subscription's timeline. Nothing is sent to
// Microsoft: the 400 answer already failed the operation.
func (p *Processor) noteRejected(ctx context.Context, m *store.InboxMessage, call Operation, at time.Time, meta subscriptions.Meta) error {
	reason := RejectionReason(m)
	subID, err := p.Store.Reads(ctx).AzureSubscriptionID(call.SubscriptionID)
	if err != nil {
		return p.retryRejected(ctx, m, err)
	}
	if subID != 0 {
		if err := p.Store.InTx(ctx, func(tx *store.Tx) error {
			return subscriptions.NoteTx(tx, p.Store.Now(), subID, "azure.change_rejected", at, "Customer's "+call.Action+" rejected: "+reason, meta)
		}); err != nil {
			return p.retryRejected(ctx, m, err)
		}
		return p.Store.FinishInbox(ctx, m.ID, store.InboxProcessed, policyRejected+reason, &subID, nil)
	}
	return p.Store.FinishInbox(ctx, m.ID, store.InboxProcessed, policyRejected+reason, nil, nil)
}

// retryRejected keeps a refused change for another confirmation attempt,
// with its refusal kept in the error text.
func (p *Processor) retryRejected(ctx context.Context, m *store.InboxMessage, err error) error {
	retry := p.Store.Now().Add(time.Minute << min(m.Attempts, 6))
	p.Log.Warn("azure refused change: confirmation failed", "inbox_id", m.ID, "err", err, "retry_at", retry)
	return p.Store.FinishInbox(ctx, m.ID, store.InboxFailed, policyRejected+RejectionReason(m), nil, &retry)
}

// act applies a confirmed operation.
func (p *Processor) act(ctx context.Context, op Operation, at time.Time, meta subscriptions.Meta) (*uint, string, string, error) {
	now := p.Store.Now()
	switch op.Action {
	case "ChangePlan", "ChangeQuantity":
		return p.actChange(ctx, now, op, at, meta)
	case "Renew":
		s, err := p.confirmedSubscription(ctx, op)
		if err != nil {
			return nil, "", "", err
		}
		start, end := term(s)
		id, err := p.applyEvent(ctx, now, s, lifecycle.Event{Kind: lifecycle.AzureRenew, At: at, TermStart: start, TermEnd: end}, meta)
		return id, store.InboxProcessed, "", err
	case "Suspend", "Reinstate", "Unsubscribe":
		return p.actStatus(ctx, now, op, at, meta)
	case "Subscribe":
		s, err := p.confirmedSubscription(ctx, op)
		if err != nil {
			return nil, "", "", err
		}
		id, _, err := p.reconcileOne(ctx, s, meta)
		return id, store.InboxProcessed, "", err
	}
	return nil, store.InboxIgnored, fmt.Sprintf("action %q changes nothing here", op.Action), nil
}

// confirmedSubscription reads the operation's subscription from Microsoft
// and learns its offer's plans.
func (p *Processor) confirmedSubscription(ctx context.Context, op Operation) (Subscription, error) {
	s, err := p.Client.Get(ctx, op.SubscriptionID)
	if err == nil {
		p.learnPlans(ctx, s.ID, s.OfferID, s.PlanID, op.PlanID)
	}
	return s, err
}

// applyEvent records a lifecycle event on the subscription (made known
// first) in one transaction and returns its id.
func (p *Processor) applyEvent(ctx context.Context, now time.Time, s Subscription, ev lifecycle.Event, meta subscriptions.Meta) (*uint, error) {
	var id uint
	err := p.Store.InTx(ctx, func(tx *store.Tx) error {
		if _, err := ensureKnown(tx, now, s, meta); err != nil {
			return err
		}
		got, err := record(tx, now, s, ev, meta)
		if got != nil {
			id = got.ID
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return &id, nil
}

// actChange tracks a customer's ChangePlan/ChangeQuantity, answers an
// InProgress one by policy and applies it once it has succeeded.
func (p *Processor) actChange(ctx context.Context, now time.Time, op Operation, at time.Time, meta subscriptions.Meta) (*uint, string, string, error) {
	s, err := p.confirmedSubscription(ctx, op)
	if err != nil {
		return nil, "", "", err
	}
	var subID uint
	if err := p.Store.InTx(ctx, func(tx *store.Tx) error {
		id, err := ensureKnown(tx, now, s, meta)
		if err != nil {
			return err
		}
		subID = id
		return track(tx, now, id, op, "azure")
	}); err != nil {
		return nil, "", "", err
	}
	if strings.EqualFold(op.Status, "InProgress") && !strings.EqualFold(op.Source, "Partner") {
		// The policy again, on Microsoft's own operation (Get Operation),
		// not the payload the call carried: a call whose payload passed
		// must not approve a change the plan refuses.
		if reason := p.policy(ctx, op); reason != "" {
			if err := p.rejectChange(ctx, now, op, subID, at, reason, meta); err != nil {
				return nil, "", "", err
			}
			return &subID, store.InboxProcessed, policyRejected + reason, nil
		}
		// Accepted by policy: say so now, then apply it when the
		// operation has succeeded.
		if err := p.Client.UpdateOperation(ctx, op.SubscriptionID, op.ID, true); err != nil && StatusOf(err) != http.StatusNotFound {
			return nil, "", "", err
		}
	}
	if strings.EqualFold(op.Status, "Succeeded") {
		if err := p.finishOperation(ctx, op, at); err != nil {
			return nil, "", "", err
		}
	}
	return &subID, store.InboxProcessed, "", nil
}

// rejectChange answers Microsoft's operation with a failure and records
// the refusal on the tracked operation and the subscription's timeline.
func (p *Processor) rejectChange(ctx context.Context, now time.Time, op Operation, subID uint, at time.Time, reason string, meta subscriptions.Meta) error {
	if err := p.Client.UpdateOperation(ctx, op.SubscriptionID, op.ID, false); err != nil && StatusOf(err) != http.StatusNotFound {
		return err
	}
	return p.Store.InTx(ctx, func(tx *store.Tx) error {
		if err := finishTracked(tx, op.ID, "Failed", reason); err != nil {
			return err
		}
		return subscriptions.NoteTx(tx, now, subID, "azure.change_rejected", at, "Customer's "+op.Action+" rejected: "+reason, meta)
	})
}

// actStatus applies a Suspend, Reinstate or Unsubscribe operation.
func (p *Processor) actStatus(ctx context.Context, now time.Time, op Operation, at time.Time, meta subscriptions.Meta) (*uint, string, string, error) {
	s, err := p.confirmedSubscription(ctx, op)
	if err != nil {
		return nil, "", "", err
	}
	kind := map[string]lifecycle.Kind{"Suspend": lifecycle.AzureSuspend, "Reinstate": lifecycle.AzureReinstate, "Unsubscribe": lifecycle.AzureUnsubscribe}[op.Action]
	start, end := term(s)
	if op.Action == "Reinstate" && strings.EqualFold(op.Status, "InProgress") {
		if err := p.Client.UpdateOperation(ctx, op.SubscriptionID, op.ID, true); err != nil {
			p.Log.Warn("azure reinstate acknowledgement", "operation", op.ID, "err", err) // tolerated (reference §6.1)
		}
	}
	id, err := p.applyEvent(ctx, now, s, lifecycle.Event{Kind: kind, At: at, TermStart: start, TermEnd: end}, meta)
	if err == nil {
		_ = p.Store.InTx(ctx, func(tx *store.Tx) error { return finishTracked(tx, op.ID, "Succeeded", "") })
	}
	return id, store.InboxProcessed, "", err
}

func (p *Processor) retryLater(ctx context.Context, m *store.InboxMessage, err error) error {
	d := time.Minute << min(m.Attempts, 6)
	retry := p.Store.Now().Add(d)
	p.Log.Error("azure notification failed to apply", "inbox_id", m.ID, "err", err, "retry_at", retry)
	if ferr := p.Store.FinishInbox(ctx, m.ID, store.InboxFailed, err.Error(), nil, &retry); ferr != nil {
		return ferr
	}
	return err
}

// RetryDue processes the notifications whose retry time has come.
func (p *Processor) RetryDue(ctx context.Context) {
	due, err := p.Store.DueInbox(ctx, SourceNotification, 50)
	if err != nil {
		p.Log.Error("azure inbox retry", "err", err)
		return
	}
	for i := range due {
		_ = p.ProcessNotification(ctx, &due[i])
	}
}
