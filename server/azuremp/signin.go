package azuremp

import (
	"context"
	"errors"
	"time"

	"github.com/marketgate/marketgate/server/auth"
	"github.com/marketgate/marketgate/store"
)

// SignInLifetime bounds a buyer's Entra sign-in from the landing page: it
// must finish within it, and works once.
const SignInLifetime = 15 * time.Minute

// ErrSignInUnusable: no sign-in has that state, or it was used or has
// expired.
var ErrSignInUnusable = errors.New("the sign-in has expired or was used")

// StartLanding keeps the purchase token of a buyer the landing page sends
// to sign in with Entra and returns the sign-in's state and nonce. The
// token waits in the database, never in a URL or a cookie; only the
// state's hash is stored.
func (p *Processor) StartLanding(ctx context.Context, purchaseToken string, now time.Time) (state, nonce string, err error) {
	state, nonce = auth.RandomToken(24), auth.RandomToken(24)
	err = p.Store.Writes(ctx).CreateAzureSignIn(&store.AzureSignIn{StateHash: store.HashToken(state), Nonce: nonce,
		PurchaseToken: purchaseToken, ExpiresAt: now.Add(SignInLifetime), CreatedAt: now})
	return state, nonce, err
}

// SignInPurpose is the purpose of the sign-in with this state, used or
// not: "login" or "invite" for the portal's, "" or "landing" for a
// landing's, "" too when there is none.
func (p *Processor) SignInPurpose(ctx context.Context, state string) string {
	si, err := p.Store.Reads(ctx).AzureSignInByState(store.HashToken(state))
	if err != nil {
		return ""
	}
	return si.Purpose
}

// UseSignIn takes the sign-in with this state as Entra sends the buyer
// back: once, and before it expires (ErrSignInUnusable otherwise).
func (p *Processor) UseSignIn(ctx context.Context, state string, now time.Time) (*store.AzureSignIn, error) {
	si, err := p.Store.Writes(ctx).UseAzureSignIn(store.HashToken(state), now)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrSignInUnusable
	}
	return si, err
}

// ForgetPurchaseToken blanks a used sign-in's purchase token: it is not
// needed after the callback.
func (p *Processor) ForgetPurchaseToken(ctx context.Context, signInID uint) error {
	return p.Store.Writes(ctx).ForgetPurchaseToken(signInID)
}
