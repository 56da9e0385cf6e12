package azuremp

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/marketgate/marketgate/server/lifecycle"
	"github.com/marketgate/marketgate/server/subscriptions"
	"github.com/marketgate/marketgate/store"
)

// StoredSubscription returns one of our Microsoft subscriptions with its offer,
// plan and customer; store.ErrNotFound when there is none with that id or
// it is not Microsoft's.
func (p *Processor) StoredSubscription(ctx context.Context, id uint) (*store.Subscription, error) {
	if id == 0 {
		return nil, store.ErrNotFound
	}
	sub, err := p.Store.GetSubscription(ctx, id)
	if err != nil {
		return nil, err
	}
	if sub.Marketplace != "azure" {
		return nil, store.ErrNotFound
	}
	return sub, nil
}

// ActivateOnLanding activates a pending subscription at once after the
// landing when its plan activates automatically (the buyer's side may).
func (p *Processor) ActivateOnLanding(ctx context.Context, landed *Landed, actor string) error {
	sub := landed.Subscription
	if sub.State != string(lifecycle.Pending) || landed.Plan == nil || landed.Plan.ActivationPolicy != store.ActivateAutomatic ||
		!MayActivate(landed.Plan, SourceLanding) {
		return nil
	}
	_, err := p.Activate(ctx, sub.ID, actor, SourceLanding)
	return err
}

// WelcomeFacts is what the welcome page tells about a Microsoft
// subscription besides the subscription itself.
type WelcomeFacts struct {
	// Resolved is the subscription as Microsoft resolved it at the last
	// landing (purchaser and beneficiary), nil when it never landed.
	Resolved *Subscription
	// Admins are (up to three of) the customer admins of its customer;
	// Invited, the addresses invited to become one and not answered yet.
	Admins, Invited []string
}

// Invitations are the invitations to administer a customer (one of its
// customer admins) that the Microsoft flows make and show.
type Invitations interface {
	// Pending lists up to limit addresses invited to administer the
	// customer whose invitation is still open.
	Pending(ctx context.Context, customerID uint, limit int) ([]string, error)
	// Invite stores a new invitation and returns its id and the secret
	// token of its link.
	Invite(ctx context.Context, customerID uint, email, createdBy string) (id uint, token string, err error)
	// Revoke revokes an invitation.
	Revoke(ctx context.Context, customerID, id uint) error
}

// Welcome gathers the welcome page's facts about a subscription (with its
// customer loaded).
func (p *Processor) Welcome(ctx context.Context, sub *store.Subscription, invites Invitations) WelcomeFacts {
	var out WelcomeFacts
	rd := p.Store.Reads(ctx)
	if msg, err := rd.LatestInboxOf(sub.ID, SourceLanding); err == nil {
		var body struct {
			Resolved struct {
				Subscription Subscription `json:"subscription"`
			} `json:"resolved"`
		}
		if json.Unmarshal([]byte(msg.Body), &body) == nil {
			out.Resolved = &body.Resolved.Subscription
		}
	}
	if sub.CustomerID != nil {
		out.Admins, _ = rd.CustomerAdminEmails(*sub.CustomerID, 3)
		out.Invited, _ = invites.Pending(ctx, *sub.CustomerID, 3)
	}
	return out
}

// Invitation is how InviteBeneficiary reaches the beneficiary.
type Invitation struct {
	// Mail sends a plain-text e-mail; nil when e-mail is not set up.
	Mail func(ctx context.Context, to, subject, text string) error
	// Invitations keeps the invitation.
	Invitations Invitations
	// URL is the invitation page's address for a token.
	URL func(token string) string
	Now time.Time
	// Log says what went wrong (with the request's id).
	Log *slog.Logger
}

// InviteBeneficiary gives the beneficiary's organisation its customer admin
// when the person who landed cannot be one (a purchaser of another tenant,
// or an e-mail taken by another account): Microsoft's beneficiary e-mail
// is invited by e-mail, once, unless the organisation has an admin or a
// pending invitation already. Without e-mail set up, the seller is told on
// the subscription's timeline to invite them from the portal.
func (p *Processor) InviteBeneficiary(ctx context.Context, landed *Landed, in Invitation) {
	cu, email := landed.Customer, store.NormalizeEmail(landed.Resolved.Beneficiary.EmailID)
	if cu == nil || landed.Subscription == nil {
		return
	}
	now := in.Now
	rd := p.Store.Reads(ctx)
	if admins, err := rd.CountCustomerAdmins(cu.ID); err != nil || admins > 0 {
		return
	}
	if pending, err := in.Invitations.Pending(ctx, cu.ID, 1); err != nil || len(pending) > 0 {
		return
	}
	note := func(summary string) {
		_ = p.Store.InTx(ctx, func(tx *store.Tx) error {
			return subscriptions.NoteTx(tx, now, landed.Subscription.ID, "azure.admin_needed", now, summary,
				subscriptions.Meta{Source: SourceLanding, Actor: "marketgate"})
		})
	}
	if _, err := p.Store.UserByEmail(ctx, email); email == "" || !strings.Contains(email, "@") || err == nil {
		note("No customer admin yet: the person who opened the landing page is not of the beneficiary's organisation; invite an administrator of " + cu.Name + " from the customer's page")
		return
	}
	if in.Mail == nil {
		note("No customer admin yet: the purchaser is of another organisation; invite the beneficiary " + email + " from the customer's page (e-mail is not set up)")
		return
	}
	invID, token, err := in.Invitations.Invite(ctx, cu.ID, email, "Microsoft purchase")
	if err != nil {
		in.Log.Error("azure: inviting the beneficiary", "err", err)
		return
	}
	product := "the product"
	if landed.Offer != nil {
		product = landed.Offer.Name
	}
	text := fmt.Sprintf("%s bought %s for %s on Microsoft's marketplace.\n\nYou are invited to administer the subscription: sign in with your Microsoft work account or choose a password here (the link works once, for 7 days):\n\n%s\n",
		cmp.Or(landed.Resolved.Purchaser.EmailID, "Someone"), product, cu.Name, in.URL(token))
	if err := in.Mail(ctx, email, "You are invited to administer "+product, text); err != nil {
		in.Log.Warn("azure: the beneficiary's invitation was not sent", "err", err)
		_ = in.Invitations.Revoke(ctx, cu.ID, invID)
		note("No customer admin yet: the invitation e-mail to " + email + " could not be sent; invite them from the customer's page")
		return
	}
	note("No customer admin yet: invited the beneficiary " + email + " by e-mail (the purchaser is of another organisation)")
	_ = p.Store.Audit(ctx, &store.AuditEntry{At: now, ActorEmail: "marketgate", Action: "customer_admin.invite", TargetType: "customer",
		TargetID: strconv.FormatUint(uint64(cu.ID), 10), After: fmt.Sprintf(`{"email":%q,"invite":%d,"reason":"microsoft purchase"}`, email, invID)})
}
