package awsmp

import "github.com/marketgate/marketgate/store"

// AWS identity models (reference §1), as offers store them.
const (
	ModelLegacy               = "legacy"                // CustomerIdentifier + ProductCode
	ModelConcurrentAgreements = "concurrent_agreements" // CustomerAWSAccountId + LicenseArn
)

// MeteringIdentity is the one identity a subscription's usage is sent to
// AWS under. A legacy product's buyer carries both identities (ResolveCustomer
// answers all four fields), but AWS says: NEVER meter the same customer in the
// same hour under both models, records with ProductCode and records with
// LicenseArn for one customer and hour are billed twice (reference §1). So
// the model is chosen once per product, here, and every metering record is
// stamped with that model's fields only.
type MeteringIdentity struct {
	Model string `json:"model"` // legacy, concurrent_agreements, or "" (cannot be metered yet)
	// Source says where the model comes from: "offer" (the offer's
	// identity_model, chosen by the seller) or "inferred" (the offer has
	// none: a subscription AWS gave a CustomerIdentifier belongs to a legacy
	// product, since ResolveCustomer never fills it for concurrent-agreement
	// products; one with only a license belongs to a concurrent-agreement
	// product).
	Source               string `json:"source"`
	CustomerIdentifier   string `json:"customer_identifier"`
	ProductCode          string `json:"product_code"`
	CustomerAWSAccountID string `json:"customer_aws_account_id"`
	LicenseArn           string `json:"license_arn"`
	// Missing says what AWS has not given yet for this model ("" when the
	// identity is complete and usage can be sent).
	Missing string `json:"missing"`
}

// MeteringIdentityFor chooses the identity to meter a subscription under,
// from its offer's identity model (offerModel; "" when the offer has none
// or the product is unknown).
func MeteringIdentityFor(offerModel string, s *store.Subscription) MeteringIdentity {
	out := MeteringIdentity{Model: offerModel, Source: "offer"}
	if offerModel != ModelLegacy && offerModel != ModelConcurrentAgreements {
		out.Source = "inferred"
		switch {
		case s.AWSCustomerIdentifier != "":
			out.Model = ModelLegacy
		case s.AWSLicenseArn != "":
			out.Model = ModelConcurrentAgreements
		default:
			out.Model = ""
		}
	}
	switch out.Model {
	case ModelLegacy:
		out.CustomerIdentifier, out.ProductCode = s.AWSCustomerIdentifier, s.AWSProductCode
		switch {
		case out.CustomerIdentifier == "":
			out.Missing = "AWS has not given this buyer's CustomerIdentifier yet (ResolveCustomer or subscribe-success brings it)"
		case out.ProductCode == "":
			out.Missing = "the product code is not known"
		}
	case ModelConcurrentAgreements:
		out.CustomerAWSAccountID, out.LicenseArn = s.AWSCustomerAccountID, s.AWSLicenseArn
		if out.CustomerAWSAccountID == "" || out.LicenseArn == "" {
			out.Missing = "AWS has not given this buyer's CustomerAWSAccountId and LicenseArn yet (ResolveCustomer or License Updated brings them)"
		}
	default:
		out.Missing = "no AWS identity is known for this subscription"
	}
	return out
}

// OfferModel is the identity model of a subscription's loaded offer ("" when
// it has none).
func OfferModel(s *store.Subscription) string {
	if s.Offer == nil {
		return ""
	}
	return s.Offer.IdentityModel
}
