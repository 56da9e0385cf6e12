package awsmp

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/marketgate/marketgate/store"
)

// ErrAccountExists means an account with the onboarding form's e-mail
// address exists already.
var ErrAccountExists = errors.New("an account with this e-mail address already exists")

// OnboardingState is what the onboarding pages show of a ticket's
// subscription (its offer and customer loaded), and whether the
// subscription's organisation has an administrator already.
func OnboardingState(ctx context.Context, st *store.Store, subID uint) (*store.Subscription, bool, error) {
	sub, err := st.GetSubscription(ctx, subID)
	if err != nil {
		return nil, false, err
	}
	hasAdmin := false
	if sub.CustomerID != nil {
		admins, err := st.ListUsers(ctx, *sub.CustomerID)
		if err != nil {
			return nil, false, err
		}
		hasAdmin = len(admins) > 0
	}
	return sub, hasAdmin, nil
}

// Onboarding is the buyer's onboarding form, checked.
type Onboarding struct {
	Company, Name, Email string
	PasswordHash         string
}

// Onboard uses a ticket to create the buyer's organisation (or complete
// the customer registration made: its name and e-mail when it has none)
// and its first administrator, in one transaction. It fails with
// store.ErrTicketUsed when the ticket was used meanwhile, and with
// ErrAccountExists when the e-mail address has an account.
func Onboard(ctx context.Context, st *store.Store, now time.Time, t *store.OnboardingTicket, o Onboarding) (*store.User, error) {
	var user store.User
	err := st.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.UseOnboardingTicket(t.ID, now); err != nil {
			return err
		}
		cur, cust, err := tx.OnboardingParties(t.SubscriptionID)
		if err != nil {
			return err
		}
		if cust.Name == "" {
			cust.Name = o.Company
		}
		if cust.Email == "" {
			cust.Email = o.Email
		}
		if cust.CreatedAt.IsZero() {
			cust.CreatedAt = now
		}
		cust.UpdatedAt = now
		if err := tx.SaveOnboardingCustomer(cust); err != nil {
			return err
		}
		// The search digest follows the customer's name and e-mail.
		if err := tx.UpdateSubscription(cur.ID, 0, map[string]any{"customer_id": cust.ID, "updated_at": now}); err != nil {
			return err
		}
		user = store.User{Email: o.Email, Name: o.Name, PasswordHash: o.PasswordHash,
			Role: store.RoleCustomerAdmin, CustomerID: &cust.ID, CreatedAt: now, UpdatedAt: now}
		return tx.CreateOnboardingAdmin(&user)
	})
	if err != nil && !errors.Is(err, store.ErrTicketUsed) && store.IsUniqueViolation(err) {
		return nil, fmt.Errorf("%w: %w", ErrAccountExists, err)
	}
	if err != nil {
		return nil, err
	}
	return &user, nil
}
