package azurefake

import (
	"errors"
	"fmt"
	"strconv"
	"time"
)

// Customer-side actions: what a buyer does in the Azure portal or Microsoft
// 365 admin center. Each creates an operation with operationRequestSource
// "Azure" and delivers the §6.2 webhook synchronously through
// Options.Webhook, signed with Entra.WebhookToken(WebhookTenant, WebhookAudience).

// ChangePlan starts a customer plan change (InProgress). The webhook's 4xx
// answer fails it at once; PATCH Success applies it; otherwise it is
// auto-accepted after AutoAccept (§6.1).
func (m *Marketplace) ChangePlan(subID, planID string) (opID string, err error) {
	return m.customerChange(subID, "ChangePlan", func(s *subscription) (string, int, error) {
		p, ok := m.plan(s.OfferID, planID)
		if !ok {
			return "", 0, fmt.Errorf("azurefake: no plan %q in offer %q", planID, s.OfferID)
		}
		if planID == s.PlanID {
			return "", 0, fmt.Errorf("azurefake: the subscription is already on plan %q", planID)
		}
		q, err := quantityOnPlan(p, s.Quantity)
		return planID, q, err
	})
}

// ChangeQuantity starts a customer seat change; as ChangePlan.
func (m *Marketplace) ChangeQuantity(subID string, q int) (opID string, err error) {
	return m.customerChange(subID, "ChangeQuantity", func(s *subscription) (string, int, error) {
		p, _ := m.plan(s.OfferID, s.PlanID)
		switch {
		case p == nil || !p.PerSeat:
			return "", 0, fmt.Errorf("azurefake: plan %q is not per seat", s.PlanID)
		case q == s.Quantity:
			return "", 0, fmt.Errorf("azurefake: the quantity is already %d", q)
		case q < p.MinQuantity || q > p.MaxQuantity:
			return "", 0, fmt.Errorf("azurefake: quantity %d outside %d–%d", q, p.MinQuantity, p.MaxQuantity)
		}
		return s.PlanID, q, nil
	})
}

func (m *Marketplace) customerChange(subID, action string, target func(*subscription) (string, int, error)) (string, error) {
	m.sync()
	m.mu.Lock()
	s, ok := m.subs[subID]
	switch {
	case !ok:
		m.mu.Unlock()
		return "", errors.New("azurefake: unknown subscription")
	case s.Status != StatusSubscribed:
		m.mu.Unlock()
		return "", fmt.Errorf("azurefake: the subscription is %s, not Subscribed", s.Status)
	case s.pending() != nil:
		m.mu.Unlock()
		return "", errors.New("azurefake: another operation is in progress")
	}
	planID, qty, err := target(s)
	if err != nil {
		m.mu.Unlock()
		return "", err
	}
	now := m.now()
	op := m.newOpLocked(s, action, SourceAzure, OpInProgress, now)
	op.PlanID, op.Quantity = planID, qty
	op.due = now.Add(m.o.AutoAccept)
	body := m.payloadLocked(s, op) // subscription still shows the old plan and quantity
	op.payload = body
	id := op.ID
	m.mu.Unlock()
	if m.o.Webhook == nil {
		return id, nil
	}
	status, err := m.deliver(body)
	m.answered(op, status, err)
	return id, nil
}

// answered applies the publisher's answer to a customer change's webhook:
// a 4xx rejects the change while it is InProgress (§6.1, §6.3 step 3).
func (m *Marketplace) answered(op *operation, status int, err error) {
	if err != nil || status < 400 || status >= 500 || op.Source != SourceAzure || (op.Action != "ChangePlan" && op.Action != "ChangeQuantity") {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if op.Status == OpInProgress {
		op.Status, op.ErrorStatusCode = OpFailed, strconv.Itoa(status)
		op.ErrorMessage = fmt.Sprintf("The publisher's webhook rejected the change (HTTP %d)", status)
	}
}

// Suspend suspends a Subscribed subscription (e.g. a failed payment) and
// sends a Succeeded Suspend webhook.
func (m *Marketplace) Suspend(subID string) (opID string, err error) {
	return m.customerEvent(subID, "Suspend", []string{StatusSubscribed}, func(s *subscription, _ time.Time) {
		s.Status = StatusSuspended
	})
}

// Reinstate makes a Suspended subscription Subscribed again (Succeeded).
func (m *Marketplace) Reinstate(subID string) (opID string, err error) {
	return m.customerEvent(subID, "Reinstate", []string{StatusSuspended}, func(s *subscription, _ time.Time) {
		s.Status = StatusSubscribed
	})
}

// Renew rolls a Subscribed subscription's term forward by one term.
func (m *Marketplace) Renew(subID string) (opID string, err error) {
	return m.customerEvent(subID, "Renew", []string{StatusSubscribed}, func(s *subscription, now time.Time) {
		if s.EndDate.IsZero() {
			s.StartDate = dateOf(now)
		} else {
			s.StartDate = s.EndDate.AddDate(0, 0, 1)
		}
		s.EndDate = termEnd(s.StartDate, s.TermUnit)
	})
}

// Unsubscribe cancels a subscription from the customer side (final).
func (m *Marketplace) Unsubscribe(subID string) (opID string, err error) {
	return m.customerEvent(subID, "Unsubscribe", []string{StatusPendingFulfillmentStart, StatusSubscribed, StatusSuspended},
		func(s *subscription, _ time.Time) { s.Status = StatusUnsubscribed })
}

// customerEvent applies a change that Microsoft has already made, then
// sends its Succeeded webhook (§6.1 Renew, Suspend, Reinstate, Unsubscribe).
func (m *Marketplace) customerEvent(subID, action string, from []string, apply func(*subscription, time.Time)) (string, error) {
	m.sync()
	m.mu.Lock()
	s, ok := m.subs[subID]
	if !ok {
		m.mu.Unlock()
		return "", errors.New("azurefake: unknown subscription")
	}
	valid := false
	for _, f := range from {
		valid = valid || s.Status == f
	}
	if !valid {
		st := s.Status
		m.mu.Unlock()
		return "", fmt.Errorf("azurefake: cannot %s a subscription that is %s", action, st)
	}
	now := m.now()
	apply(s, now)
	s.LastModified = now
	op := m.newOpLocked(s, action, SourceAzure, OpSucceeded, now)
	body := m.payloadLocked(s, op)
	op.payload = body
	id := op.ID
	m.mu.Unlock()
	if m.o.Webhook != nil {
		_, _ = m.deliver(body) // Microsoft would retry a failure; the change stands
	}
	return id, nil
}

// RedeliverWebhook sends an operation's webhook again, byte for byte, as
// Microsoft's retries do (§6.3).
func (m *Marketplace) RedeliverWebhook(subID, opID string) (int, error) {
	m.mu.Lock()
	op := m.opLocked(subID, opID)
	var body []byte
	if op != nil {
		body = op.payload
	}
	m.mu.Unlock()
	if body == nil {
		return 0, errors.New("azurefake: no webhook was sent for this operation")
	}
	status, err := m.deliver(body)
	m.answered(op, status, err)
	return status, err
}
