package awsmp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/marketgate/marketgate/server/auth"
	"github.com/marketgate/marketgate/server/subscriptions"
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

// CheckOnboarding reads the onboarding form: the company, name and e-mail
// address as kept (trimmed, the address normalised) and the password's
// hash, or the problem to show the buyer (the form is shown again with
// what they typed).
func CheckOnboarding(company, name, email, password string) (Onboarding, string) {
	o := Onboarding{Company: strings.TrimSpace(company), Name: strings.TrimSpace(name), Email: store.NormalizeEmail(email)}
	switch {
	case o.Company == "" || o.Name == "":
		return o, "Please fill in your company and your name."
	case len(o.Company) > 200 || len(o.Name) > 200:
		return o, "Company and name must be at most 200 characters."
	case auth.HasControl(o.Company) || auth.HasControl(o.Name):
		return o, "Company and name must not contain control characters."
	case !strings.Contains(o.Email, "@") || len(o.Email) > 320:
		return o, "Please enter a valid e-mail address."
	}
	hash, err := auth.HashPassword(password)
	if err != nil {
		return o, "Your password: " + err.Error() + "."
	}
	o.PasswordHash = hash
	return o, ""
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
		upd := map[string]any{"customer_id": cust.ID, "updated_at": now}
		if cur.Name == "" {
			// AWS names no subscription: it is named after its buyer and offer (subscriptions.DisplayName).
			withOffer, err := tx.AWSSubscription(cur.ID, true)
			if err != nil {
				return err
			}
			offer := ""
			if withOffer.Offer != nil {
				offer = withOffer.Offer.Name
			}
			upd["name"] = subscriptions.DisplayName("", cust.Name, offer)
		}
		if err := tx.UpdateSubscription(cur.ID, 0, upd); err != nil {
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

// E-mail verification (issue 15, finding 9): when mail is configured, the
// onboarding form does not create the account at once; it is kept with a
// link sent to the address, and the account is created when its owner
// opens the link and confirms.

// verifyOnboarding is the purpose of the onboarding's verification links.
const verifyOnboarding = "aws_onboarding"

// VerificationLifetime is how long a verification link works.
const VerificationLifetime = 24 * time.Hour

// The states of a verification link that end the confirmation.
var (
	ErrVerificationExpired = errors.New("the verification link is unknown or has expired")
	ErrVerificationUsed    = errors.New("the verification link was used")
)

// onboardingData is the form a verification link keeps.
type onboardingData struct {
	Company      string `json:"company"`
	Name         string `json:"name"`
	PasswordHash string `json:"password_hash"`
}

// RequestVerification keeps an onboarding form until its e-mail address is
// confirmed and returns the token of the link to send. Links used or
// expired are removed first: a link is kept until used or expired, no
// longer (its data holds the chosen password's hash).
func RequestVerification(ctx context.Context, st *store.Store, now time.Time, t *store.OnboardingTicket, o Onboarding) (string, error) {
	tx := st.Writes(ctx)
	if err := tx.DeleteSpentEmailVerifications(now); err != nil {
		return "", err
	}
	token := auth.RandomToken(32)
	data, _ := json.Marshal(onboardingData{Company: o.Company, Name: o.Name, PasswordHash: o.PasswordHash})
	v := store.EmailVerification{TokenHash: store.HashToken(token), Purpose: verifyOnboarding, Email: o.Email, TicketID: &t.ID,
		Data: string(data), ExpiresAt: now.Add(VerificationLifetime), CreatedAt: now}
	if err := tx.CreateEmailVerification(&v); err != nil {
		return "", err
	}
	return token, nil
}

// PendingOnboarding is an onboarding form waiting for its e-mail address
// to be confirmed.
type PendingOnboarding struct {
	Onboarding
	VerificationID uint
	TicketID       *uint
}

// PendingVerification reads the form a verification link keeps; the link
// is ErrVerificationExpired (unknown, or expired by now) or
// ErrVerificationUsed.
func PendingVerification(ctx context.Context, st *store.Store, now time.Time, token string) (*PendingOnboarding, error) {
	v, err := st.Writes(ctx).EmailVerificationByToken(token, verifyOnboarding)
	switch {
	case errors.Is(err, store.ErrNotFound) || err == nil && !now.Before(v.ExpiresAt):
		return nil, ErrVerificationExpired
	case err != nil:
		return nil, err
	case v.UsedAt != nil:
		return nil, ErrVerificationUsed
	}
	var d onboardingData
	_ = json.Unmarshal([]byte(v.Data), &d)
	return &PendingOnboarding{Onboarding: Onboarding{Company: d.Company, Name: d.Name, Email: v.Email, PasswordHash: d.PasswordHash},
		VerificationID: v.ID, TicketID: v.TicketID}, nil
}

// VerificationTicket is the onboarding ticket a pending form is for:
// store.ErrNotFound when it is gone, store.ErrTicketUsed when it was used.
func VerificationTicket(ctx context.Context, st *store.Store, p *PendingOnboarding) (*store.OnboardingTicket, error) {
	if p.TicketID == nil {
		return nil, store.ErrNotFound
	}
	t, err := st.Writes(ctx).OnboardingTicketByID(*p.TicketID)
	if err != nil {
		return nil, store.ErrNotFound
	}
	if t.UsedAt != nil {
		return nil, store.ErrTicketUsed
	}
	return t, nil
}

// UseVerification marks a pending form's link used and forgets the form
// (the caller has it): store.ErrTicketUsed when another request used the
// link first.
func UseVerification(ctx context.Context, st *store.Store, now time.Time, p *PendingOnboarding) error {
	ok, err := st.Writes(ctx).UseEmailVerification(p.VerificationID, now)
	if err != nil {
		return err
	}
	if !ok {
		return store.ErrTicketUsed
	}
	return nil
}
