package awsmp

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"time"

	"github.com/marketgate/marketgate/server/auth"
	"github.com/marketgate/marketgate/server/lifecycle"
	"github.com/marketgate/marketgate/server/subscriptions"
	"github.com/marketgate/marketgate/store"
)

// The buyer's registration: after subscribing, AWS Marketplace posts the
// buyer's browser to the product's fulfillment URL with a registration
// token. The token authenticates the buyer; it is stored with the request
// in the inbox (hashed, never in clear), resolved with ResolveCustomer, and
// what AWS answered is recorded on the subscription. The buyer then gets an
// onboarding ticket: a one-hour link to create their organisation's first
// administrator (Onboard).

// Resolver resolves registration tokens; *Client is one.
type Resolver interface {
	ResolveCustomer(ctx context.Context, token string) (Customer, error)
}

// EntitlementRefresher reads and applies a contract customer's
// entitlements; *Processor is one.
type EntitlementRefresher interface {
	RefreshEntitlements(ctx context.Context, ref subscriptions.Ref, productCode, source string, inboxID *uint) (*uint, error)
}

// SourceRegistration is the inbox source of registrations.
const SourceRegistration = "aws_registration"

// OnboardingTTL is how long the link to create the account works.
const OnboardingTTL = time.Hour

// The ways a registration fails, besides ErrExpiredToken and
// ErrInvalidToken (the buyer's token): each is a page for the buyer.
var (
	// ErrRegistrationNotStored: the request could not be stored; nothing was done.
	ErrRegistrationNotStored = errors.New("the registration could not be stored")
	// ErrRegistrationNotConfigured: AWS Marketplace is not configured; the
	// registration is stored and marked failed.
	ErrRegistrationNotConfigured = errors.New("AWS Marketplace is not configured")
	// ErrResolveUnavailable: ResolveCustomer failed for a reason other than
	// the token (AWS not answering, throttling, credentials).
	ErrResolveUnavailable = errors.New("AWS Marketplace did not resolve the registration")
	// ErrRegistrationNotRecorded: what AWS answered could not be recorded;
	// the stored registration is retried.
	ErrRegistrationNotRecorded = errors.New("the registration could not be recorded")
)

// Registration records registrations from AWS Marketplace.
type Registration struct {
	Store *store.Store
	Log   *slog.Logger // with the request's id
	// Resolver resolves the token; nil: AWS Marketplace is not configured.
	Resolver Resolver
	// Entitlements reads a contract's entitlements at registration; nil:
	// they come with the next entitlement event.
	Entitlements EntitlementRefresher
	Now          func() time.Time
}

// RegistrationForm is what the buyer's browser posted.
type RegistrationForm struct {
	Token       string // x-amzn-marketplace-token: present, bounded, printable (the caller checks)
	OfferType   string // x-amzn-marketplace-offer-type: "free-trial" for a free trial
	ContentType string // of the request, stored with it
	Headers     string // the request's headers worth keeping, as stored in the inbox
}

// Register stores a registration in the inbox, resolves its token, records
// what AWS answered on the subscription (creating or completing it), reads
// a contract's entitlements, and returns the onboarding ticket. Its errors
// are ErrRegistrationNotStored, ErrRegistrationNotConfigured,
// ErrExpiredToken, ErrInvalidToken, ErrResolveUnavailable,
// ErrRegistrationNotRecorded, or another error (the ticket was not made).
func (r *Registration) Register(ctx context.Context, f RegistrationForm) (string, error) {
	h := sha256.Sum256([]byte(f.Token))
	dedup := "token:" + hex.EncodeToString(h[:16])
	freeTrial := f.OfferType == "free-trial"
	// The stored body keeps the documented fields only, and never the token
	// (a credential for the buyer's visit; registrations are not replayed).
	kept := url.Values{"x-amzn-marketplace-token": {"(not stored; sha256 " + hex.EncodeToString(h[:8]) + "…)"}}
	if f.OfferType != "" {
		kept.Set("x-amzn-marketplace-offer-type", clip(f.OfferType, 32))
	}
	msg, _, err := r.Store.ReceiveInbox(ctx, &store.InboxMessage{Marketplace: "aws", Source: SourceRegistration,
		DedupKey: dedup, Action: "register", ContentType: clip(f.ContentType, 100), Body: kept.Encode(), Headers: f.Headers})
	if err != nil {
		r.Log.Error("aws registration: inbox", "err", err)
		return "", fmt.Errorf("%w: %w", ErrRegistrationNotStored, err)
	}
	if r.Resolver == nil {
		_ = r.Store.FinishInbox(ctx, msg.ID, store.InboxFailed, "AWS Marketplace is not configured", nil, nil)
		return "", ErrRegistrationNotConfigured
	}

	cust, err := r.Resolver.ResolveCustomer(ctx, f.Token)
	if err != nil {
		_ = r.Store.FinishInbox(ctx, msg.ID, store.InboxFailed, err.Error(), nil, nil)
		switch {
		case errors.Is(err, ErrExpiredToken):
			r.Log.Warn("aws registration: expired token")
			return "", err
		case errors.Is(err, ErrInvalidToken):
			r.Log.Warn("aws registration: invalid token")
			return "", err
		}
		r.Log.Error("aws registration: resolve failed", "err", err)
		return "", fmt.Errorf("%w: %w", ErrResolveUnavailable, err)
	}

	subID, contract, err := r.record(ctx, cust, freeTrial, msg.ID)
	if err != nil {
		retry := r.Now().UTC().Add(time.Minute)
		_ = r.Store.FinishInbox(ctx, msg.ID, store.InboxFailed, err.Error(), nil, &retry)
		r.Log.Error("aws registration: record", "err", err)
		return "", fmt.Errorf("%w: %w", ErrRegistrationNotRecorded, err)
	}
	if contract && r.Entitlements != nil {
		// For contracts, access follows the entitlements. If AWS does not
		// answer now, entitlement-updated or License Updated will bring them.
		if _, err := r.Entitlements.RefreshEntitlements(ctx, ResolvedRef(cust), cust.ProductCode, SourceRegistration, &msg.ID); err != nil {
			r.Log.Warn("aws registration: entitlements not read", "err", err)
		}
	}
	if err := r.Store.FinishInbox(ctx, msg.ID, store.InboxProcessed, "", &subID, nil); err != nil {
		r.Log.Error("aws registration: inbox", "err", err)
	}
	ticket := auth.RandomToken(32)
	if err := r.Store.CreateTicket(ctx, ticket, subID, OnboardingTTL); err != nil {
		return "", err
	}
	return ticket, nil
}

// record stores what ResolveCustomer said, field by field: it never
// overwrites what a notification already set. It returns the
// subscription's id and whether its offer is a contract.
func (r *Registration) record(ctx context.Context, cust Customer, freeTrial bool, inboxID uint) (uint, bool, error) {
	var subID uint
	contract := false
	now := r.Now().UTC()
	err := r.Store.InTx(ctx, func(tx *store.Tx) error {
		offer, err := tx.AWSOffer(cust.ProductCode, false)
		if err != nil {
			return err
		}
		contract = offer.Contract
		// The account's customer, when it has one already. A new one is
		// made only after the subscription is ours (created, or locked for
		// update on Postgres), so that registrations of one buyer racing
		// each other (or a notification) make one customer, not one each.
		var customerID *uint
		if cust.CustomerAWSAccountID != "" {
			if customerID, err = tx.CustomerIDByAWSAccount(cust.CustomerAWSAccountID); err != nil {
				return err
			}
		}
		payload, _ := json.Marshal(map[string]any{"resolved": cust, "free_trial": freeTrial})
		res, err := applyTx(tx, now, ResolvedRef(cust), lifecycle.Event{Kind: lifecycle.AWSRegistered, At: now},
			subscriptions.Meta{Source: SourceRegistration, Actor: "buyer", Payload: string(payload), InboxID: &inboxID},
			func(sub *store.Subscription) {
				sub.CustomerID = customerID
				if offer.ID != 0 {
					sub.OfferID = &offer.ID
				}
				sub.AWSProductCode = cust.ProductCode
				sub.FreeTrial = freeTrial
			})
		if err != nil {
			return err
		}
		subID = res.Subscription.ID
		return completeRegistration(tx, now, res.Subscription, cust, offer, freeTrial, customerID)
	})
	return subID, contract, err
}

// completeRegistration adds what ResolveCustomer said and a subscription
// made earlier (by a notification) lacks: the account's customer (made
// now when the account has none), the offer, the product code, the
// free-trial flag. customerID is the account's customer found before.
func completeRegistration(tx *store.Tx, now time.Time, sub *store.Subscription, cust Customer, offer store.Offer, freeTrial bool, customerID *uint) error {
	upd := map[string]any{}
	if sub.CustomerID == nil && cust.CustomerAWSAccountID != "" {
		var err error
		if customerID == nil {
			if customerID, err = tx.CustomerIDByAWSAccount(cust.CustomerAWSAccountID); err != nil {
				return err
			}
		}
		if customerID == nil {
			id, err := tx.CreateAWSCustomer(cust.CustomerAWSAccountID, now)
			if err != nil {
				return err
			}
			customerID = &id
		}
		upd["customer_id"] = *customerID
	}
	if sub.OfferID == nil && offer.ID != 0 {
		upd["offer_id"] = offer.ID
	}
	if sub.AWSProductCode == "" && cust.ProductCode != "" {
		upd["aws_product_code"] = cust.ProductCode
	}
	if freeTrial && !sub.FreeTrial {
		upd["free_trial"] = true
	}
	if len(upd) == 0 {
		return nil
	}
	upd["updated_at"] = now
	return tx.UpdateSubscription(sub.ID, 0, upd)
}

// ResolvedRef is every identity ResolveCustomer gave. Legacy products get
// the CustomerIdentifier and also the CustomerAWSAccountId, LicenseArn and
// ProductCode (reference §3): one purchase, one subscription carrying them
// all, found again by whichever of them a later message names.
func ResolvedRef(cust Customer) subscriptions.Ref {
	return subscriptions.Ref{AWSCustomerAccountID: cust.CustomerAWSAccountID, AWSLicenseArn: cust.LicenseArn,
		AWSCustomerIdentifier: cust.CustomerIdentifier, AWSProductCode: cust.ProductCode}
}
