package awsmp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ma "github.com/aws/aws-sdk-go-v2/service/marketplaceagreement"
	matypes "github.com/aws/aws-sdk-go-v2/service/marketplaceagreement/types"

	"github.com/marketgate/marketgate/store"
)

// AgreementReader is the part of the Agreement Service client the
// agreement page reads with (besides GetAgreementTerms).
type AgreementReader interface {
	DescribeAgreement(ctx context.Context, in *ma.DescribeAgreementInput, opts ...func(*ma.Options)) (*ma.DescribeAgreementOutput, error)
	SearchAgreements(ctx context.Context, in *ma.SearchAgreementsInput, opts ...func(*ma.Options)) (*ma.SearchAgreementsOutput, error)
	GetAgreementEntitlements(ctx context.Context, in *ma.GetAgreementEntitlementsInput, opts ...func(*ma.Options)) (*ma.GetAgreementEntitlementsOutput, error)
}

// AgreementDescription is an agreement as AWS's Agreement Service describes it, in
// the shape the portal shows: its party and dates, its pricing and
// dimensions, free trial, renewal, support and legal terms, entitlements,
// and the agreements of the same chain (renewals, replacements).
type AgreementDescription struct {
	AgreementID        string               `json:"agreement_id"`
	Status             string               `json:"status"` // ACTIVE, CANCELLED, EXPIRED, RENEWED, REPLACED, TERMINATED (verbatim)
	AgreementType      string               `json:"agreement_type"`
	AcceptorAccountID  string               `json:"acceptor_account_id"`
	ProposerAccountID  string               `json:"proposer_account_id"`
	OfferID            string               `json:"offer_id"`
	ProductID          string               `json:"product_id"`
	AcceptedAt         *time.Time           `json:"accepted_at"`
	StartsAt           *time.Time           `json:"starts_at"`
	EndsAt             *time.Time           `json:"ends_at"` // nil: pay-as-you-go, no end
	Duration           string               `json:"duration"`
	InitialAgreementID string               `json:"initial_agreement_id"`
	EstimatedValue     string               `json:"estimated_value"`
	Currency           string               `json:"currency"`
	Pricing            []PricingTerm        `json:"pricing"`
	Dimensions         []AgreementDim       `json:"dimensions"`
	FreeTrial          *AgreementTrial      `json:"free_trial"`
	Renewal            AgreementRenewalTerm `json:"renewal"`
	RefundPolicy       string               `json:"refund_policy"`
	Documents          []AgreementDoc       `json:"documents"`
	Entitlements       []AgreementGrant     `json:"entitlements"`
	Related            []RelatedAgreement   `json:"related"`
}

// PricingTerm is one accepted pricing term.
type PricingTerm struct {
	Kind          string `json:"kind"` // usage, configurable_upfront, fixed_upfront, recurring, payment_schedule, variable_payment, byol, free_trial
	Currency      string `json:"currency"`
	Price         string `json:"price"`          // fixed upfront, recurring
	Duration      string `json:"duration"`       // ISO 8601
	BillingPeriod string `json:"billing_period"` // recurring
	MaxTotal      string `json:"max_total"`      // variable payment: the most the seller may request
}

// AgreementDim is a dimension of the agreement: its price per unit, the
// units bought (upfront contracts), the most the buyer may use (grants).
type AgreementDim struct {
	Key         string `json:"key"`
	Term        string `json:"term"` // the pricing term's kind
	Price       string `json:"price"`
	Units       *int   `json:"units"`
	MaxQuantity *int   `json:"max_quantity"`
}

// AgreementTrial is the agreement's free trial.
type AgreementTrial struct {
	Duration   string     `json:"duration"`
	Days       int        `json:"days"`
	EndsAt     *time.Time `json:"ends_at"`
	Dimensions []string   `json:"dimensions"`
}

// AgreementRenewalTerm is whether and how the agreement renews.
type AgreementRenewalTerm struct {
	HasRenewalTerm bool   `json:"has_renewal_term"`
	AutoRenew      *bool  `json:"auto_renew"`       // the buyer's choice (RenewalTermConfiguration.enableAutoRenew)
	Behavior       string `json:"behavior"`         // RENEW, REPLACE, EXPIRE; "" for an agreement not active or without end
	ReasonCode     string `json:"reason_code"`      // PROPOSER_RENEW_OPTED_OUT, ACCEPTOR_RENEW_OPTED_OUT, NO_RENEWAL_TERM, RENEWAL_LIMIT_EXHAUSTED
	TurnedOffBy    string `json:"turned_off_by"`    // buyer, seller or ""
	RenewalOfferID string `json:"renewal_offer_id"` // renewalSummary.offerId
	LockoutPeriod  string `json:"lockout_period"`   // the renewal decision deadline before the end (ISO 8601 days)
	MaxRenewals    *int   `json:"max_renewals"`
}

// AgreementDoc is a legal document of the agreement.
type AgreementDoc struct {
	Type    string `json:"type"`
	URL     string `json:"url"`
	Version string `json:"version"`
}

// AgreementGrant is an entitlement the agreement provisions.
type AgreementGrant struct {
	LicenseArn string `json:"license_arn"`
	Status     string `json:"status"`
	Reason     string `json:"reason"`
	Resource   string `json:"resource"`
}

// RelatedAgreement is another agreement of the same chain, linked to its
// subscription here when Marketgate knows it.
type RelatedAgreement struct {
	AgreementID    string     `json:"agreement_id"`
	Relation       string     `json:"relation"` // earlier, later
	Status         string     `json:"status"`
	StartsAt       *time.Time `json:"starts_at"`
	EndsAt         *time.Time `json:"ends_at"`
	SubscriptionID *uint      `json:"subscription_id"`
}

// reader is the client's Agreement Service as an AgreementReader, nil
// where there is none.
func (c *Client) reader() AgreementReader {
	if c == nil || c.Agreement == nil {
		return nil
	}
	r, _ := c.Agreement.(AgreementReader)
	return r
}

// ReadAgreement reads an agreement from AWS: DescribeAgreement, every page
// of GetAgreementTerms and GetAgreementEntitlements, and (SearchAgreements
// by its InitialAgreementId) the other agreements of its chain.
func (c *Client) ReadAgreement(ctx context.Context, agreementID string) (*AgreementDescription, error) {
	r := c.reader()
	if r == nil {
		return nil, ErrNoAgreementAPI
	}
	d, err := r.DescribeAgreement(ctx, &ma.DescribeAgreementInput{AgreementId: aws.String(agreementID)})
	if err != nil {
		return nil, err
	}
	v := describeView(d)
	terms, err := c.acceptedTerms(ctx, agreementID)
	if err != nil {
		return nil, err
	}
	for _, t := range terms {
		applyTerm(v, t)
	}
	v.finish()
	if v.Entitlements, err = readGrants(ctx, r, agreementID); err != nil {
		return nil, err
	}
	if v.Related, err = readChain(ctx, r, v); err != nil {
		return nil, err
	}
	return v, nil
}

func describeView(d *ma.DescribeAgreementOutput) *AgreementDescription {
	v := &AgreementDescription{AgreementID: aws.ToString(d.AgreementId), Status: string(d.Status), AgreementType: aws.ToString(d.AgreementType),
		AcceptedAt: utc(d.AcceptanceTime), StartsAt: utc(d.StartTime), EndsAt: utc(d.EndTime), InitialAgreementID: aws.ToString(d.InitialAgreementId),
		Pricing: []PricingTerm{}, Dimensions: []AgreementDim{}, Documents: []AgreementDoc{}, Entitlements: []AgreementGrant{}, Related: []RelatedAgreement{}}
	if d.Acceptor != nil {
		v.AcceptorAccountID = aws.ToString(d.Acceptor.AccountId)
	}
	if d.Proposer != nil {
		v.ProposerAccountID = aws.ToString(d.Proposer.AccountId)
	}
	if p := d.ProposalSummary; p != nil {
		v.OfferID = aws.ToString(p.OfferId)
		if len(p.Resources) > 0 {
			v.ProductID = aws.ToString(p.Resources[0].Id)
		}
	}
	if e := d.EstimatedCharges; e != nil {
		v.EstimatedValue, v.Currency = aws.ToString(e.AgreementValue), aws.ToString(e.CurrencyCode)
	}
	if b := d.EndTimeBehavior; b != nil {
		v.Renewal.Behavior, v.Renewal.ReasonCode = string(b.Type), string(b.ReasonCode)
		if b.RenewalSummary != nil {
			v.Renewal.RenewalOfferID = aws.ToString(b.RenewalSummary.OfferId)
		}
	}
	return v
}

// TurnedOffBy names who turned auto-renewal off from AWS's reason code:
// "PROPOSER_RENEW_OPTED_OUT – The proposer opted out of renewing the
// agreement. ACCEPTOR_RENEW_OPTED_OUT – The acceptor opted out".
func TurnedOffBy(reasonCode string) string {
	switch reasonCode {
	case "PROPOSER_RENEW_OPTED_OUT":
		return "seller"
	case "ACCEPTOR_RENEW_OPTED_OUT":
		return "buyer"
	}
	return ""
}

// finish derives what the terms imply together: the trial's end, who
// turned renewal off.
func (v *AgreementDescription) finish() {
	v.Renewal.TurnedOffBy = TurnedOffBy(v.Renewal.ReasonCode)
	if v.Renewal.TurnedOffBy == "" && v.Renewal.AutoRenew != nil && !*v.Renewal.AutoRenew {
		// "The EnableAutoRenew field reflects only the acceptor's preference."
		v.Renewal.TurnedOffBy = "buyer"
	}
	if t := v.FreeTrial; t != nil && t.Days > 0 && v.StartsAt != nil {
		e := v.StartsAt.AddDate(0, 0, t.Days)
		t.EndsAt = &e
	}
}

// applyTerm adds one accepted term to the view.
func applyTerm(v *AgreementDescription, t matypes.AcceptedTerm) {
	if applyPricing(v, t) {
		return
	}
	switch x := t.(type) {
	case *matypes.AcceptedTermMemberFreeTrialPricingTerm:
		ft := &AgreementTrial{Duration: aws.ToString(x.Value.Duration), Days: isoDays(aws.ToString(x.Value.Duration)), Dimensions: []string{}}
		for _, g := range x.Value.Grants {
			ft.Dimensions = append(ft.Dimensions, aws.ToString(g.DimensionKey))
		}
		v.FreeTrial = ft
	case *matypes.AcceptedTermMemberValidityTerm:
		v.Duration = aws.ToString(x.Value.AgreementDuration)
		if v.StartsAt == nil {
			v.StartsAt = utc(x.Value.AgreementStartDate)
		}
		if v.EndsAt == nil {
			v.EndsAt = utc(x.Value.AgreementEndDate)
		}
	case *matypes.AcceptedTermMemberRenewalTerm:
		v.Renewal.HasRenewalTerm = true
		if c := x.Value.Configuration; c != nil && c.EnableAutoRenew != nil {
			on := *c.EnableAutoRenew
			v.Renewal.AutoRenew = &on
		}
		v.Renewal.LockoutPeriod = aws.ToString(x.Value.LockoutPeriod)
		v.Renewal.MaxRenewals = intPtr(x.Value.MaxRenewals)
	case *matypes.AcceptedTermMemberSupportTerm:
		v.RefundPolicy = aws.ToString(x.Value.RefundPolicy)
	case *matypes.AcceptedTermMemberLegalTerm:
		for _, d := range x.Value.Documents {
			v.Documents = append(v.Documents, AgreementDoc{Type: aws.ToString(d.Type), URL: aws.ToString(d.Url), Version: aws.ToString(d.Version)})
		}
	}
}

// applyPricing adds a pricing term; false for a term of another kind.
func applyPricing(v *AgreementDescription, t matypes.AcceptedTerm) bool {
	switch x := t.(type) {
	case *matypes.AcceptedTermMemberUsageBasedPricingTerm:
		v.addPricing(PricingTerm{Kind: "usage", Currency: aws.ToString(x.Value.CurrencyCode)})
		for _, card := range x.Value.RateCards {
			v.addRates("usage", card.RateCard, nil)
		}
	case *matypes.AcceptedTermMemberConfigurableUpfrontPricingTerm:
		applyConfigurable(v, &x.Value)
	case *matypes.AcceptedTermMemberFixedUpfrontPricingTerm:
		v.addPricing(PricingTerm{Kind: "fixed_upfront", Currency: aws.ToString(x.Value.CurrencyCode), Price: aws.ToString(x.Value.Price), Duration: aws.ToString(x.Value.Duration)})
		for _, g := range x.Value.Grants {
			v.Dimensions = append(v.Dimensions, AgreementDim{Key: aws.ToString(g.DimensionKey), Term: "fixed_upfront", MaxQuantity: intPtr(g.MaxQuantity)})
		}
	case *matypes.AcceptedTermMemberRecurringPaymentTerm:
		v.addPricing(PricingTerm{Kind: "recurring", Currency: aws.ToString(x.Value.CurrencyCode), Price: aws.ToString(x.Value.Price), BillingPeriod: aws.ToString(x.Value.BillingPeriod)})
	case *matypes.AcceptedTermMemberPaymentScheduleTerm:
		v.addPricing(PricingTerm{Kind: "payment_schedule", Currency: aws.ToString(x.Value.CurrencyCode)})
	case *matypes.AcceptedTermMemberVariablePaymentTerm:
		v.addPricing(PricingTerm{Kind: "variable_payment", Currency: aws.ToString(x.Value.CurrencyCode), MaxTotal: aws.ToString(x.Value.MaxTotalChargeAmount)})
	case *matypes.AcceptedTermMemberByolPricingTerm:
		v.addPricing(PricingTerm{Kind: "byol"})
	default:
		return false
	}
	return true
}

// applyConfigurable adds a configurable upfront term: the rate card's
// prices, and the units the buyer chose.
func applyConfigurable(v *AgreementDescription, t *matypes.ConfigurableUpfrontPricingTerm) {
	p := PricingTerm{Kind: "configurable_upfront", Currency: aws.ToString(t.CurrencyCode)}
	units := map[string]int{}
	if c := t.Configuration; c != nil {
		p.Duration = aws.ToString(c.SelectorValue)
		for _, d := range c.Dimensions {
			units[aws.ToString(d.DimensionKey)] = int(d.DimensionValue)
		}
	}
	v.addPricing(p)
	for _, card := range t.RateCards {
		if card.Selector != nil && p.Duration != "" && aws.ToString(card.Selector.Value) != p.Duration {
			continue // another duration the buyer did not choose
		}
		v.addRates("configurable_upfront", card.RateCard, units)
	}
}

func (v *AgreementDescription) addPricing(p PricingTerm) {
	v.Pricing = append(v.Pricing, p)
	if v.Currency == "" {
		v.Currency = p.Currency
	}
}

func (v *AgreementDescription) addRates(term string, card []matypes.RateCardItem, units map[string]int) {
	for _, r := range card {
		d := AgreementDim{Key: aws.ToString(r.DimensionKey), Term: term, Price: aws.ToString(r.Price)}
		if n, ok := units[d.Key]; ok {
			d.Units = &n
		}
		v.Dimensions = append(v.Dimensions, d)
	}
}

// acceptedTerms reads every page of an agreement's accepted terms.
func (c *Client) acceptedTerms(ctx context.Context, agreementID string) ([]matypes.AcceptedTerm, error) {
	if c == nil || c.Agreement == nil {
		return nil, ErrNoAgreementAPI
	}
	var out []matypes.AcceptedTerm
	in := &ma.GetAgreementTermsInput{AgreementId: aws.String(agreementID), MaxResults: aws.Int32(50)}
	seen := map[string]bool{}
	for {
		page, err := c.Agreement.GetAgreementTerms(ctx, in)
		if err != nil {
			return nil, err
		}
		out = append(out, page.AcceptedTerms...)
		next := aws.ToString(page.NextToken)
		if next == "" || seen[next] {
			return out, nil
		}
		seen[next] = true
		in.NextToken = aws.String(next)
	}
}

// readGrants reads every page of an agreement's entitlements.
func readGrants(ctx context.Context, r AgreementReader, agreementID string) ([]AgreementGrant, error) {
	out := []AgreementGrant{}
	in := &ma.GetAgreementEntitlementsInput{AgreementId: aws.String(agreementID), MaxResults: aws.Int32(50)}
	seen := map[string]bool{}
	for {
		page, err := r.GetAgreementEntitlements(ctx, in)
		if err != nil {
			return nil, err
		}
		for _, e := range page.AgreementEntitlements {
			g := AgreementGrant{LicenseArn: aws.ToString(e.LicenseArn), Status: string(e.Status), Reason: string(e.StatusReasonCode)}
			if e.Resource != nil {
				g.Resource = aws.ToString(e.Resource.Id)
			}
			out = append(out, g)
		}
		next := aws.ToString(page.NextToken)
		if next == "" || seen[next] {
			return out, nil
		}
		seen[next] = true
		in.NextToken = aws.String(next)
	}
}

// readChain lists the other agreements of the agreement's chain (same
// InitialAgreementId), oldest end first.
func readChain(ctx context.Context, r AgreementReader, v *AgreementDescription) ([]RelatedAgreement, error) {
	out := []RelatedAgreement{}
	if v.InitialAgreementID == "" {
		return out, nil
	}
	in := &ma.SearchAgreementsInput{Catalog: aws.String("AWSMarketplace"), MaxResults: aws.Int32(50), Filters: []matypes.Filter{
		{Name: aws.String("AgreementType"), Values: []string{"PurchaseAgreement"}},
		{Name: aws.String("PartyType"), Values: []string{"Proposer"}},
		{Name: aws.String("InitialAgreementId"), Values: []string{v.InitialAgreementID}},
	}}
	seen := map[string]bool{}
	for pages := 0; pages < 20; pages++ {
		page, err := r.SearchAgreements(ctx, in)
		if err != nil {
			return nil, err
		}
		for _, s := range page.AgreementViewSummaries {
			id := aws.ToString(s.AgreementId)
			if id == v.AgreementID {
				continue
			}
			rel := RelatedAgreement{AgreementID: id, Status: string(s.Status), StartsAt: utc(s.StartTime), EndsAt: utc(s.EndTime), Relation: "later"}
			if rel.StartsAt != nil && v.StartsAt != nil && rel.StartsAt.Before(*v.StartsAt) {
				rel.Relation = "earlier"
			}
			out = append(out, rel)
		}
		next := aws.ToString(page.NextToken)
		if next == "" || seen[next] {
			break
		}
		seen[next] = true
		in.NextToken = aws.String(next)
	}
	sort.SliceStable(out, func(i, j int) bool { return timeOr(out[i].StartsAt).Before(timeOr(out[j].StartsAt)) })
	return out, nil
}

func timeOr(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}

func utc(t *time.Time) *time.Time {
	if t == nil || t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

func intPtr(n *int32) *int {
	if n == nil {
		return nil
	}
	v := int(*n)
	return &v
}

// SubscriptionAgreement is a subscription's current agreement as the
// portal's agreement page shows it: AWS's view (cached; nil when it could
// never be read), when it was read, why the last read failed, and every
// agreement Marketgate has linked to the subscription.
type SubscriptionAgreement struct {
	SubscriptionID uint                  `json:"subscription_id"`
	AgreementID    string                `json:"agreement_id"` // "" when no agreement is linked
	Agreement      *AgreementDescription `json:"agreement"`
	ReadAt         *time.Time            `json:"read_at"`
	Error          string                `json:"error"`
	Linked         []string              `json:"linked_agreements"`
}

// AgreementViewMaxAge is how long a cached agreement is shown before it is
// read again.
const AgreementViewMaxAge = 15 * time.Minute

// SubscriptionAgreement answers a subscription's current agreement (its
// newest linked one), from the cache unless it is older than
// AgreementViewMaxAge or refresh is set; a failed read answers the cached
// view with the failure.
func (p *Processor) SubscriptionAgreement(ctx context.Context, subID uint, refresh bool) (*SubscriptionAgreement, error) {
	ags, err := p.Store.Reads(ctx).SubscriptionAWSAgreements(subID)
	if err != nil {
		return nil, err
	}
	out := &SubscriptionAgreement{SubscriptionID: subID, Linked: []string{}}
	var current *store.AWSAgreement
	for i := range ags {
		out.Linked = append(out.Linked, ags[i].AgreementID)
		if current == nil || newerAgreement(&ags[i], current) {
			current = &ags[i]
		}
	}
	if current == nil {
		return out, ErrNoAgreement
	}
	out.AgreementID = current.AgreementID
	cached, err := p.Store.Reads(ctx).AgreementViewCache(current.AgreementID)
	if err != nil {
		return nil, err
	}
	now := p.Store.Now()
	if refresh || cached.ReadAt == nil || now.Sub(*cached.ReadAt) >= AgreementViewMaxAge {
		if cached, err = p.readAgreementView(ctx, current.AgreementID, now); err != nil {
			return nil, err
		}
	}
	out.ReadAt, out.Error = cached.ReadAt, cached.Error
	if cached.Body != "" {
		var v AgreementDescription
		if err := json.Unmarshal([]byte(cached.Body), &v); err != nil {
			return nil, err
		}
		if err := p.linkRelated(ctx, &v); err != nil {
			return nil, err
		}
		out.Agreement = &v
	}
	return out, nil
}

// readAgreementView reads an agreement from AWS into the cache; AWS's
// refusal or a failure is kept with the previous view.
func (p *Processor) readAgreementView(ctx context.Context, agreementID string, now time.Time) (store.AWSAgreementView, error) {
	v, rerr := p.AWS.ReadAgreement(ctx, agreementID)
	db := p.Store.Writes(ctx)
	var err error
	if rerr != nil {
		p.Log.Warn("aws agreement not read", "agreement", agreementID, "err", rerr)
		err = db.SaveAgreementViewCache(agreementID, "", nil, clip(agreementFailure(rerr), 512), now)
	} else {
		body, merr := json.Marshal(v)
		if merr != nil {
			return store.AWSAgreementView{}, merr
		}
		err = p.Store.InTx(ctx, func(tx *store.Tx) error {
			if err := tx.SaveAgreementViewCache(agreementID, string(body), &now, "", now); err != nil {
				return err
			}
			return correctTurnedOffBy(tx, now, v)
		})
	}
	if err != nil {
		return store.AWSAgreementView{}, err
	}
	return db.AgreementViewCache(agreementID)
}

// agreementFailure says why AWS did not answer, for the page.
func agreementFailure(err error) string {
	if errors.Is(err, ErrNoAgreementAPI) {
		return err.Error()
	}
	if transientTermsError(err) {
		return fmt.Sprintf("AWS did not answer (it is read again on the next visit): %v", err)
	}
	return fmt.Sprintf("AWS refused to describe the agreement: %v", err)
}

// linkRelated names the subscriptions the related agreements are linked to.
func (p *Processor) linkRelated(ctx context.Context, v *AgreementDescription) error {
	ids := make([]string, 0, len(v.Related))
	for _, r := range v.Related {
		ids = append(ids, r.AgreementID)
	}
	subs, err := p.Store.Reads(ctx).AgreementSubscriptions(ids)
	if err != nil {
		return err
	}
	for i := range v.Related {
		if id, ok := subs[v.Related[i].AgreementID]; ok {
			v.Related[i].SubscriptionID = &id
		}
	}
	return nil
}
