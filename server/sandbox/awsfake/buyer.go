package awsfake

import (
	"crypto/rand"
	"fmt"
	"math/big"
	"strings"
	"time"
)

// NewIdentity is what AWS Marketplace assigns a buyer who subscribes to a
// product, and what ResolveCustomer then answers for their token
// (reference §1, §3). Every buyer has a 12-digit account id and the
// agreement's license. A concurrent-agreements product (every SaaS product
// from 2026-06-01) gets no CustomerIdentifier ("ResolveCustomer does not
// fill CustomerIdentifier"). A legacy product gets one as well: "Legacy
// products also return CustomerIdentifier", so its buyer carries all four
// identities at once.
func NewIdentity(productCode string, concurrentAgreements bool) Identity {
	id := Identity{ProductCode: productCode, CustomerAWSAccountID: randomAccount()}
	id.LicenseArn = "arn:aws:license-manager::" + id.CustomerAWSAccountID + ":license:l-" + newID()[:16]
	if !concurrentAgreements {
		id.CustomerIdentifier = "SBX" + strings.ToUpper(newID()[:8])
	}
	return id
}

// Legacy reports whether the identity is a legacy product's buyer: one AWS
// gave a CustomerIdentifier. ResolveCustomer fills it only for legacy
// products (reference §1, §3), which then also carry an account id and a
// license: a legacy identity with a license is still legacy. This is the
// one test of "which model" the simulated AWS uses.
func (id Identity) Legacy() bool { return id.CustomerIdentifier != "" }

func randomAccount() string {
	n, _ := rand.Int(rand.Reader, big.NewInt(1e12))
	return fmt.Sprintf("%012d", n.Int64())
}

// What AWS puts on the seller's queue at each step of a buyer's life
// (reference §6): SNS messages on the subscription and entitlement topics
// for a legacy identity (Legacy: the subscription and entitlement topics
// name only customer-identifier and product-code, §6.3, §6.4, even when the
// buyer also has a license), EventBridge events for a concurrent-agreements
// identity. The sandbox's buyer page and its demo data
// both use these, so both tell the same story.

// Purchase: the buyer subscribed. Legacy: subscribe-success, and
// entitlement-updated for a contract ("for a new contract"). Concurrent
// agreements: Purchase Agreement Created (intent NEW) and License Updated,
// the only event that names the license.
func Purchase(id Identity, contract, freeTrial bool, agreementID, offerID string, at time.Time) []string {
	if id.Legacy() {
		out := []string{SNSNotification("subscribe-success", id, freeTrial, at)}
		if contract {
			out = append(out, SNSNotification("entitlement-updated", id, false, at))
		}
		return out
	}
	ev := AgreementEvent{DetailType: "Purchase Agreement Created", Identity: id, AgreementID: agreementID, Intent: "NEW",
		Status: "ACTIVE", Start: at, OfferID: offerID}
	if contract {
		ev.End = at.AddDate(1, 0, 0)
	}
	return []string{ev.Body(at), LicenseEvent("License Updated", id, agreementID, at)}
}

// CancelRequested: the buyer cancelled; the seller has about an hour for
// the final usage. Legacy: unsubscribe-pending. Concurrent agreements:
// License Deprovisioned.
func CancelRequested(id Identity, agreementID string, at time.Time) []string {
	if id.Legacy() {
		return []string{SNSNotification("unsubscribe-pending", id, false, at)}
	}
	return []string{LicenseEvent("License Deprovisioned", id, agreementID, at)}
}

// CancelCompleted: the cancellation is over (the caller has ended the
// contract's grants and the metering first). Legacy: unsubscribe-success,
// and entitlement-updated for a contract ("for … a cancellation").
// Concurrent agreements: Purchase Agreement Ended, status CANCELLED.
func CancelCompleted(id Identity, contract bool, agreementID string, at time.Time) []string {
	if id.Legacy() {
		out := []string{SNSNotification("unsubscribe-success", id, false, at)}
		if contract {
			out = append(out, SNSNotification("entitlement-updated", id, false, at))
		}
		return out
	}
	return []string{AgreementEvent{DetailType: "Purchase Agreement Ended", Identity: id, AgreementID: agreementID, Status: "CANCELLED"}.Body(at)}
}

// ContractChanged: the buyer's contract grants changed (an upgrade).
// Legacy: entitlement-updated. Concurrent agreements: Purchase Agreement
// Amended.
func ContractChanged(id Identity, agreementID string, at time.Time) []string {
	if id.Legacy() {
		return []string{SNSNotification("entitlement-updated", id, false, at)}
	}
	return []string{AgreementEvent{DetailType: "Purchase Agreement Amended", Identity: id, AgreementID: agreementID, Intent: "AMEND", Status: "ACTIVE"}.Body(at)}
}
