package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/marketgate/marketgate/server/auth"
	"github.com/marketgate/marketgate/server/changes"
	"github.com/marketgate/marketgate/server/invitations"
	"github.com/marketgate/marketgate/server/sandbox/awsfake"
	"github.com/marketgate/marketgate/server/views"
	"github.com/marketgate/marketgate/store"
)

// The seller's desk in the demo's month: what people did beside the
// marketplaces' traffic, so that the Renewals, Change requests, Users and
// Audit pages have a month behind them too. AWS tells of agreements
// nearing their end (Purchase Agreement Ending) and a buyer turning
// auto-renewal off (Amended), through the notification processor; customer
// admins join by invitation and ask for changes through the changes
// service, which the seller approves (performed at Microsoft and followed
// to Succeeded) or declines; Microsoft's webhooks reach the real
// notification processor, one of them while Get Operation is down (failed,
// then retried), one naming an operation Microsoft does not know (refused).
//
// The demo calls the domain services, not the portal's HTTP handlers, so
// it records each action in the audit log as those handlers do
// (server/api/audit.go: the same action names, targets and values).

// demoAdmin is the seller's administrator in the demo's stories.
const demoAdmin = "admin@example.com"

// deskStories are the desk's stories, at their times.
func (w *demoWorld) deskStories(at func(day, hour int) time.Time) []demoStory {
	return []demoStory{
		{at(1, 4), w.alertChannel},
		{at(4, 2), w.customerAdminJoins("azure-seats")},
		{at(4, 5), w.customerAdminJoins("aws-contract")},
		{at(4, 6), w.customerAdminJoins("azure-unsubscribe")},
		{at(6, 1), w.askForChange("azure-seats", changes.Input{Kind: changes.Seats, Note: "Five new engineers start on Monday."})},
		{at(6, 7), w.answerChange("azure-seats", changes.Seats, true, "Approved: welcome to the new team.")},
		{at(11, 2), w.askForChange("azure-unsubscribe", changes.Input{Kind: changes.Unsubscribe, Note: "We are consolidating tools next quarter."})},
		{at(11, 9), w.answerChange("azure-unsubscribe", changes.Unsubscribe, false, "Your subscription is in a 12-month commitment until the renewal; your account manager will call you about the options.")},
		{at(18, 4), w.unconfirmedAzureCall},
		{at(20, 3), w.agreementEnding("aws-contract", 90)},
		{at(21, 5), w.agreementEnding("aws-other-writer", 60)},
		{at(23, 9), w.autoRenewOff("aws-other-writer")},
		{at(25, 1), w.askForChange("aws-contract", changes.Input{Kind: changes.Plan, Note: "We would like the annual contract with 50 users from the renewal."})},
		{at(27, 3), w.inviteColleague},
	}
}

// audit records a seller's or customer admin's action of the demo as the
// portal's handler for it does.
func (w *demoWorld) audit(ctx context.Context, actor, action, targetType string, targetID uint, before, after any) error {
	e := &store.AuditEntry{At: w.clock, ActorEmail: actor, Action: action, TargetType: targetType,
		TargetID: strconv.FormatUint(uint64(targetID), 10), RequestID: "sandbox-demo"}
	if u, err := w.st.UserByEmail(ctx, actor); err == nil {
		e.ActorUserID = &u.ID
	}
	e.SetValues(before, after)
	return w.st.Audit(ctx, e)
}

// alertChannel: the admin sends every alert to the operations team's
// Slack channel (an incoming webhook; in the sandbox a receiver in this
// process that accepts it) and sends it a test message.
func (w *demoWorld) alertChannel(ctx context.Context) error {
	ch := store.AlertChannel{Kind: "slack", Name: "Operations team (Slack)", Target: "https://" + ReceiverHost + "/slack/ops-alerts",
		AlertTypes: "*", Enabled: true, CreatedAt: w.clock, UpdatedAt: w.clock}
	if err := w.st.CreateAlertChannel(ctx, &ch); err != nil {
		return err
	}
	if err := w.audit(ctx, demoAdmin, "alert_channel.create", "alert_channel", ch.ID, nil,
		map[string]any{"kind": ch.Kind, "name": ch.Name, "target": ch.Target, "alert_types": []string{"*"}, "enabled": true}); err != nil {
		return err
	}
	return w.alerts.SendTest(ctx, &ch)
}

// inviteColleague: the admin invites the finance team as viewers; the
// invitation is still open at the month's end (the Users page lists it).
func (w *demoWorld) inviteColleague(ctx context.Context) error {
	svc := invitations.Service{Store: &w.st, Now: func() time.Time { return w.clock }}
	inv, _, err := svc.Create(ctx, invitations.Request{Kind: store.InviteStaff, Email: "finance@example.com", Name: "Finance team",
		Role: store.RoleViewer, CreatedBy: demoAdmin, Language: "en"})
	if err != nil {
		return err
	}
	return w.audit(ctx, demoAdmin, "user.invite", "staff_invite", inv.ID, nil, map[string]any{"email": inv.Email, "role": inv.Role})
}

// customerAdminJoins: the buyer of a demo subscription is invited as its
// organisation's customer admin and accepts (audited by the invitations
// service as customer_admin.join).
func (w *demoWorld) customerAdminJoins(role string) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		s := w.subs[role]
		if s == nil || s.CustomerID == nil {
			return fmt.Errorf("demo %s: no subscription with a customer", role)
		}
		svc := invitations.Service{Store: &w.st, Now: func() time.Time { return w.clock }}
		email := w.customerAdminEmail(role)
		inv, _, err := svc.Create(ctx, invitations.Request{Kind: store.InviteCustomerAdmin, CustomerID: *s.CustomerID, Email: email,
			CreatedBy: demoAdmin, Language: "en"})
		if err != nil {
			return err
		}
		if err := w.audit(ctx, demoAdmin, "customer_admin.invite", "customer", *s.CustomerID, nil, map[string]any{"email": email}); err != nil {
			return err
		}
		// Nobody signs in as them: the password is random and forgotten.
		hash, err := auth.HashPassword(auth.RandomToken(24))
		if err != nil {
			return err
		}
		_, err = svc.Accept(ctx, inv, func(u *store.User) { u.Name, u.PasswordHash = "IT administrator", hash })
		return err
	}
}

// customerAdminEmail is the demo customer admin of a role's organisation.
func (w *demoWorld) customerAdminEmail(role string) string {
	return fmt.Sprintf("it-admin-%d@customer.example", *w.subs[role].CustomerID)
}

// askForChange: a customer admin asks for a change of their subscription
// (the plans' default policy, approval, puts it in the seller's queue).
// Seats: five more; plan: another plan of the offer.
func (w *demoWorld) askForChange(role string, in changes.Input) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		sub, err := w.st.GetSubscription(ctx, w.subs[role].ID)
		if err != nil {
			return err
		}
		in.Actor, in.IdempotencyKey = w.customerAdminEmail(role), "demo-"+role+"-"+in.Kind
		switch in.Kind {
		case changes.Seats:
			in.Quantity = sub.Quantity + 5
		case changes.Plan:
			in.PlanID = w.otherPlan(ctx, sub)
		}
		res, err := w.changes().Submit(ctx, sub, in)
		if err != nil {
			return fmt.Errorf("demo change of %s: %w", role, err)
		}
		return w.audit(ctx, in.Actor, "change_request."+res.Request.Kind, "subscription", sub.ID, nil, views.ChangeRequestOf(res.Request))
	}
}

// otherPlan is a plan of the subscription's offer other than its own.
func (w *demoWorld) otherPlan(ctx context.Context, sub *store.Subscription) string {
	offers, err := w.st.OffersWithPlans(ctx, sub.Marketplace)
	if err != nil {
		return ""
	}
	for _, o := range offers {
		for _, p := range o.Plans {
			if sub.OfferID != nil && sub.PlanID != nil && o.ID == *sub.OfferID && p.ID != *sub.PlanID {
				return p.PlanID
			}
		}
	}
	return ""
}

// answerChange: the admin approves (Microsoft performs it; the server's
// operations job follows it to Succeeded) or declines with a reason.
func (w *demoWorld) answerChange(role, kind string, approve bool, answer string) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		r, err := w.st.Reads(ctx).OpenChangeRequest(w.subs[role].ID, kind)
		if err != nil {
			return fmt.Errorf("demo %s: no open change request: %w", role, err)
		}
		var res changes.Result
		action := "change_request.approve"
		if approve {
			res, err = w.changes().Approve(ctx, r.ID, demoAdmin, answer)
		} else {
			action = "change_request.decline"
			res, err = w.changes().Decline(ctx, r.ID, demoAdmin, answer)
		}
		if err != nil {
			return fmt.Errorf("demo answer to %s: %w", role, err)
		}
		return w.audit(ctx, demoAdmin, action, "subscription", res.Request.SubscriptionID, nil, views.ChangeRequestOf(res.Request))
	}
}

func (w *demoWorld) changes() *changes.Service {
	return &changes.Service{Store: &w.st, Azure: w.azp}
}

// azureWebhook is Microsoft's webhook call reaching the seller's server:
// stored by the notification processor, then confirmed with Get Operation
// and applied, as the server's webhook handler and its job do (the
// handler checks the call's token first; the demo's calls are Microsoft's
// own). While holdAzure is set the seller's server does not answer.
func (w *demoWorld) azureWebhook(ctx context.Context, body []byte, _ string) (int, error) {
	if w.holdAzure {
		return 0, errors.New("the seller's server did not answer (timeout)")
	}
	ans, err := w.azp.ReceiveNotification(ctx, body, `{"Content-Type":["application/json"]}`)
	if err != nil {
		return 0, err
	}
	if ans.New {
		m, err := w.st.GetInbox(ctx, ans.InboxID)
		if err != nil {
			return 0, err
		}
		// The answer was given before: a failure to confirm or apply is
		// kept on the message with its retry time.
		_ = w.azp.ProcessNotification(ctx, m)
	}
	return ans.Status, nil
}

// unconfirmedAzureCall: a call to the webhook URL that names an operation
// Microsoft does not know (a test from the seller's own tooling, with the
// app's token): Get Operation answers 404, so it is refused as
// rejected_unverified and never applied (reference: act only on what Get
// Operation confirms).
func (w *demoWorld) unconfirmedAzureCall(ctx context.Context) error {
	s := w.subs["azure-big"]
	body, _ := json.Marshal(map[string]any{"id": uuid(w.rng), "activityId": uuid(w.rng), "subscriptionId": s.AzureSubscriptionID,
		"offerId": s.Offer.MarketplaceID, "planId": s.Plan.PlanID, "quantity": 0, "action": "Unsubscribe", "status": "Succeeded",
		"operationRequestSource": "Azure", "timeStamp": w.clock.Format(time.RFC3339)})
	status, err := w.azureWebhook(ctx, body, "")
	if err == nil && status != http.StatusOK {
		err = fmt.Errorf("the unconfirmed call was answered %d", status)
	}
	return err
}

// agreementEnding: AWS sends Purchase Agreement Ending (both variants)
// days before the agreement's end; the simulated Agreement Service moves
// the end there so that DescribeAgreement agrees.
func (w *demoWorld) agreementEnding(role string, days int) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		agreement := w.agreements[role]
		end := w.clock.Truncate(time.Second).AddDate(0, 0, days)
		w.terms.SetEnd(agreement, end)
		w.ends[role] = end
		return w.deliver(ctx, w.clock, awsfake.EndingEvents(w.ids[role], agreement, days, end, true, w.clock))
	}
}

// autoRenewOff: the buyer turns auto-renewal off in their AWS console
// (Purchase Agreement Amended): an alert, a note and a webhook event for
// the seller's sales team.
func (w *demoWorld) autoRenewOff(role string) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		agreement := w.agreements[role]
		w.terms.SetAutoRenew(agreement, false, false)
		return w.deliver(ctx, w.clock, awsfake.AutoRenewalEvents(w.ids[role], agreement, w.ends[role], false, w.clock))
	}
}
