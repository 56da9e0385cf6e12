package api

import (
	"context"

	"github.com/marketgate/marketgate/server/auth"
	"github.com/marketgate/marketgate/store"
)

// azureInvitations are the customer-admin invitations the Microsoft flows
// (server/azuremp) make and show: the beneficiary invited after a purchase
// by someone of another organisation, and the welcome page's "invited".
type azureInvitations struct{ s *Server }

func (a azureInvitations) Pending(ctx context.Context, customerID uint, limit int) ([]string, error) {
	return a.s.Store.Reads(ctx).PendingAdminInviteEmails(customerID, a.s.Now().UTC(), limit)
}

func (a azureInvitations) Invite(ctx context.Context, customerID uint, email, createdBy string) (uint, string, error) {
	token, now := auth.RandomToken(24), a.s.Now().UTC()
	inv := store.AdminInvite{CustomerID: customerID, Email: email, TokenHash: hashState(token), CreatedBy: createdBy,
		ExpiresAt: now.Add(inviteLifetime), CreatedAt: now}
	if err := a.s.Store.Writes(ctx).CreateBeneficiaryInvite(&inv); err != nil {
		return 0, "", err
	}
	return inv.ID, token, nil
}

func (a azureInvitations) Revoke(ctx context.Context, customerID, id uint) error {
	return a.s.Store.Writes(ctx).RevokeBeneficiaryInvite(id, a.s.Now().UTC())
}
