package api

import (
	"context"

	"github.com/marketgate/marketgate/server/invitations"
	"github.com/marketgate/marketgate/store"
)

// azureInvitations are the customer-admin invitations the Microsoft flows
// (server/azuremp) make and show: the beneficiary invited after a purchase
// by someone of another organisation, and the welcome page's "invited".
// They are the one invitations package's customer-admin invitations.
type azureInvitations struct{ s *Server }

func (a azureInvitations) Pending(ctx context.Context, customerID uint, limit int) ([]string, error) {
	return a.s.invitations().Pending(ctx, invitations.CustomerAdmins(customerID), limit)
}

func (a azureInvitations) Invite(ctx context.Context, customerID uint, email, createdBy string) (uint, string, error) {
	inv, token, err := a.s.invitations().Create(ctx, invitations.Request{Kind: store.InviteCustomerAdmin, CustomerID: customerID,
		Email: email, CreatedBy: createdBy})
	if err != nil {
		return 0, "", err
	}
	return inv.ID, token, nil
}

func (a azureInvitations) Revoke(ctx context.Context, customerID, id uint) error {
	_, _, err := a.s.invitations().Revoke(ctx, invitations.CustomerAdmins(customerID), id)
	return err
}
