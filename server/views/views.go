// Package views holds the JSON shapes that leave Marketgate in more than
// one way. A subscription is answered by the portal API and carried by the
// seller's outbound webhook events in one shape, Subscription; the portal
// API's contract (server/api/contract.go) describes it, and the portal's
// TypeScript type is generated from that description.
package views

import (
	"time"

	"github.com/marketgate/marketgate/store"
)

// CustomerRef names a customer.
type CustomerRef struct {
	ID   uint   `json:"id"`
	Name string `json:"name"`
}

// OfferRef names an offer and its marketplace id (the Microsoft offer id
// or the AWS product code).
type OfferRef struct {
	ID            uint   `json:"id"`
	Name          string `json:"name"`
	MarketplaceID string `json:"marketplace_id"`
}

// PlanRef names a plan and its marketplace plan id.
type PlanRef struct {
	ID     uint   `json:"id"`
	PlanID string `json:"plan_id"`
	Name   string `json:"name"`
}

// Subscription is a subscription's current state.
type Subscription struct {
	ID                    uint         `json:"id"`
	Marketplace           string       `json:"marketplace" enum:"aws,azure"`
	State                 string       `json:"state"`
	Name                  string       `json:"name"`
	Customer              *CustomerRef `json:"customer"`
	Offer                 *OfferRef    `json:"offer"`
	Plan                  *PlanRef     `json:"plan"`
	Quantity              int          `json:"quantity"`
	AWSCustomerAccountID  string       `json:"aws_customer_account_id"`
	AWSLicenseArn         string       `json:"aws_license_arn"`
	AWSCustomerIdentifier string       `json:"aws_customer_identifier"`
	AWSProductCode        string       `json:"aws_product_code"`
	AWSOfferID            string       `json:"aws_offer_id"`
	AzureSubscriptionID   string       `json:"azure_subscription_id"`
	AzureTenantID         string       `json:"azure_tenant_id"`
	TermStart             *time.Time   `json:"term_start"`
	TermEnd               *time.Time   `json:"term_end"`
	TermUnit              string       `json:"term_unit"`
	FreeTrial             bool         `json:"free_trial"`
	IsTest                bool         `json:"is_test"`
	AutoRenew             bool         `json:"auto_renew"`
	Version               int          `json:"version"`
	StateChangedAt        time.Time    `json:"state_changed_at"`
	CreatedAt             time.Time    `json:"created_at"`
	UpdatedAt             time.Time    `json:"updated_at"`
}

// Of is a stored subscription's own fields (customer, offer and plan
// null).
func Of(s *store.Subscription) Subscription {
	return Subscription{
		ID: s.ID, Marketplace: s.Marketplace, State: s.State, Name: s.Name, Quantity: s.Quantity,
		AWSCustomerAccountID: s.AWSCustomerAccountID, AWSLicenseArn: s.AWSLicenseArn,
		AWSCustomerIdentifier: s.AWSCustomerIdentifier, AWSProductCode: s.AWSProductCode, AWSOfferID: s.AWSOfferID,
		AzureSubscriptionID: s.AzureSubscriptionID, AzureTenantID: s.AzureTenantID,
		TermStart: s.TermStart, TermEnd: s.TermEnd, TermUnit: s.TermUnit, FreeTrial: s.FreeTrial, IsTest: s.IsTest, AutoRenew: s.AutoRenew,
		Version: s.Version, StateChangedAt: s.StateChangedAt, CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt,
	}
}

// OfLoaded is a stored subscription with its customer, offer and plan
// (those loaded with it).
func OfLoaded(s *store.Subscription) Subscription {
	v := Of(s)
	if s.Customer != nil {
		v.Customer = &CustomerRef{ID: s.Customer.ID, Name: s.Customer.Name}
	}
	if s.Offer != nil {
		v.Offer = &OfferRef{ID: s.Offer.ID, Name: s.Offer.Name, MarketplaceID: s.Offer.MarketplaceID}
	}
	if s.Plan != nil {
		v.Plan = &PlanRef{ID: s.Plan.ID, PlanID: s.Plan.PlanID, Name: s.Plan.Name}
	}
	return v
}

// OfRow is a listed subscription's shape (its customer, offer and plan
// names come joined).
func OfRow(r *store.SubscriptionRow) Subscription {
	v := Of(&r.Subscription)
	if r.CustomerID != nil {
		v.Customer = &CustomerRef{ID: *r.CustomerID, Name: r.CustomerName}
	}
	if r.OfferID != nil {
		v.Offer = &OfferRef{ID: *r.OfferID, Name: r.OfferName, MarketplaceID: r.OfferMarketplaceID}
	}
	if r.Subscription.PlanID != nil {
		v.Plan = &PlanRef{ID: *r.Subscription.PlanID, PlanID: r.PlanKey, Name: r.PlanName}
	}
	return v
}

// EventType is a type of outbound webhook event or of alert, and what it
// means, as the portal lists them for choosing.
type EventType struct {
	Type        string `json:"type"`
	Description string `json:"description"`
}

// HasType reports whether t is one of the types.
func HasType(types []EventType, t string) bool {
	for _, x := range types {
		if x.Type == t {
			return true
		}
	}
	return false
}
