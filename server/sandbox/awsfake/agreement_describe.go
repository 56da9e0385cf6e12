package awsfake

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/smithy-go/encoding/cbor"
)

// The Agreement Service's read operations besides GetAgreementTerms, as
// aws-sdk-go-v2's marketplaceagreement v1.30.8 models them:
//
//   - DescribeAgreement: "Provides details about an agreement, such as the
//     proposer, acceptor, start date, and end date." Its endTimeBehavior "is
//     present for every active agreement that has an end date"; reasonCode
//     "is null when the agreement renews", and "PROPOSER_RENEW_OPTED_OUT
//     takes precedence over all others"; renewalSummary "is present when
//     Type is RENEW. It is also present when ReasonCode is
//     PROPOSER_RENEW_OPTED_OUT or ACCEPTOR_RENEW_OPTED_OUT".
//     initialAgreementId: "When an agreement isn't derived from another
//     agreement, its InitialAgreementId is its own AgreementId."
//   - SearchAgreements: filters by name and values; "A proposer can use any
//     combination of the preceding filters along with AgreementType, which
//     is required." SortBy "EndTime" by default, ASCENDING by default.
//   - GetAgreementEntitlements: "A list of agreement entitlements which are
//     part of the latest agreement."

// AgreementInfo is what DescribeAgreement and SearchAgreements tell of an
// agreement beyond its terms.
type AgreementInfo struct {
	AcceptorAccountID string
	ProductID         string // the resource; its type is SaaSProduct
	OfferID           string
	LicenseArn        string
	Status            string // ACTIVE (default), CANCELLED, EXPIRED, RENEWED, REPLACED, TERMINATED
	End               time.Time
	PreviousID        string // the agreement this one renews or replaces
	Value, Currency   string // estimatedCharges
}

// agreementRecord is one agreement the fake knows: its party and status,
// and the buyer's and seller's renewal choices.
type agreementRecord struct {
	AgreementInfo
	id             string
	start          time.Time
	initialID      string
	renewalTerm    bool
	autoRenew      bool
	proposerOptOut bool
	updated        time.Time
}

// SetAgreement records what DescribeAgreement answers for an agreement
// (its terms come from SetTerms; either may come first).
func (f *AgreementService) SetAgreement(id string, info AgreementInfo) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := f.recordLocked(id)
	start, end := r.start, r.End
	r.AgreementInfo = info
	if r.End.IsZero() {
		r.End = end
	}
	if r.Status == "" {
		r.Status = "ACTIVE"
	}
	if r.End.IsZero() && !start.IsZero() {
		r.End = start.AddDate(1, 0, 0)
	}
	r.initialID = id
	if prev, ok := f.records[info.PreviousID]; ok && info.PreviousID != "" {
		r.initialID = prev.initialID
	}
	r.updated = time.Now().UTC()
}

// recordLocked is the agreement's record, made when missing.
func (f *AgreementService) recordLocked(id string) *agreementRecord {
	if f.records == nil {
		f.records = map[string]*agreementRecord{}
	}
	r, ok := f.records[id]
	if !ok {
		r = &agreementRecord{id: id, initialID: id, AgreementInfo: AgreementInfo{Status: "ACTIVE"}}
		f.records[id] = r
	}
	return r
}

// SetAutoRenew records a party's renewal choice: the buyer's (acceptor)
// enableAutoRenew, or the seller's (proposer) opt-out.
func (f *AgreementService) SetAutoRenew(id string, on bool, byProposer bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := f.recordLocked(id)
	if byProposer {
		r.proposerOptOut = !on
	} else {
		r.autoRenew = on
	}
	f.setRenewalTermLocked(id, r)
	r.updated = time.Now().UTC()
}

// SetEnd moves an agreement's end (the sandbox's "n days before the end").
func (f *AgreementService) SetEnd(id string, end time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := f.recordLocked(id)
	r.End = end.UTC()
	r.updated = time.Now().UTC()
}

// Agreement is what the fake holds of an agreement: its status, end,
// whether it renews, and the one it follows.
func (f *AgreementService) Agreement(id string) (info AgreementInfo, autoRenew, ok bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.records[id]
	if !ok {
		return AgreementInfo{}, false, false
	}
	return r.AgreementInfo, r.autoRenew, true
}

// Renew ends an agreement as RENEWED and makes its successor (intent RENEW):
// the same terms and party, from the old end for the same duration.
func (f *AgreementService) Renew(oldID, newID string, at time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	old := f.recordLocked(oldID)
	old.Status, old.updated = "RENEWED", at.UTC()
	next := *old
	next.id, next.PreviousID, next.Status, next.updated = newID, oldID, "ACTIVE", at.UTC()
	next.start = at.UTC()
	next.End = at.UTC().AddDate(1, 0, 0)
	f.records[newID] = &next
	terms := make([]map[string]any, len(f.terms[oldID]))
	copy(terms, f.terms[oldID])
	f.terms[newID] = terms
}

// setRenewalTermLocked rewrites the agreement's accepted RenewalTerm to
// the buyer's current choice.
func (f *AgreementService) setRenewalTermLocked(id string, r *agreementRecord) {
	terms := f.terms[id]
	for i, t := range terms {
		if _, ok := t["renewalTerm"]; ok {
			terms[i] = renewalTerm(r.autoRenew)
			return
		}
	}
	if r.renewalTerm {
		f.terms[id] = append(terms, renewalTerm(r.autoRenew))
	}
}

func renewalTerm(on bool) map[string]any {
	return map[string]any{"renewalTerm": map[string]any{"id": "term-renewal", "type": "RenewalTerm",
		"configuration": map[string]any{"enableAutoRenew": on}}}
}

// Rate is a rate card line: a dimension, its price per unit and, for
// upfront contracts, the units the buyer bought.
type Rate struct {
	Dimension string
	Price     string // decimal, in the term's currency
	Units     int
}

// pricingTerms renders the accepted pricing and support terms of t.
func pricingTerms(t AgreementTerms) []map[string]any {
	var out []map[string]any
	cur := t.Currency
	if cur == "" {
		cur = "USD"
	}
	card := make([]any, 0, len(t.Rates))
	for _, r := range t.Rates {
		card = append(card, map[string]any{"dimensionKey": r.Dimension, "price": r.Price})
	}
	switch t.Pricing {
	case "usage":
		out = append(out, map[string]any{"usageBasedPricingTerm": map[string]any{"id": "term-usage", "type": "UsageBasedPricingTerm",
			"currencyCode": cur, "rateCards": []any{map[string]any{"rateCard": card}}}})
	case "configurable":
		dims := make([]any, 0, len(t.Rates))
		for _, r := range t.Rates {
			dims = append(dims, map[string]any{"dimensionKey": r.Dimension, "dimensionValue": r.Units})
		}
		out = append(out, map[string]any{"configurableUpfrontPricingTerm": map[string]any{"id": "term-upfront", "type": "ConfigurableUpfrontPricingTerm",
			"currencyCode": cur, "rateCards": []any{map[string]any{"rateCard": card, "selector": map[string]any{"type": "Duration", "value": duration(t)},
				"constraints": map[string]any{"multipleDimensionSelection": "Allowed", "quantityConfiguration": "Allowed"}}},
			"configuration": map[string]any{"selectorValue": duration(t), "dimensions": dims}}})
	case "fixed":
		grants := make([]any, 0, len(t.Rates))
		for _, r := range t.Rates {
			grants = append(grants, map[string]any{"dimensionKey": r.Dimension, "maxQuantity": r.Units})
		}
		out = append(out, map[string]any{"fixedUpfrontPricingTerm": map[string]any{"id": "term-fixed", "type": "FixedUpfrontPricingTerm",
			"currencyCode": cur, "duration": duration(t), "price": t.UpfrontPrice, "grants": grants}})
	}
	if t.RefundPolicy != "" {
		out = append(out, map[string]any{"supportTerm": map[string]any{"id": "term-support", "type": "SupportTerm", "refundPolicy": t.RefundPolicy}})
	}
	if t.AutoRenew != nil {
		out = append(out, renewalTerm(*t.AutoRenew))
	}
	return out
}

func duration(t AgreementTerms) string {
	if t.Duration != "" {
		return t.Duration
	}
	return "P12M"
}

// describeOperations are the operations this file serves.
var describeOperations = []string{"DescribeAgreement", "SearchAgreements", "GetAgreementEntitlements"}

// serveDescribe answers DescribeAgreement, SearchAgreements and
// GetAgreementEntitlements.
func (f *AgreementService) serveDescribe(out agreementWire, op string, r *http.Request) {
	in, bad := readNested(r, out.cbor)
	if bad != nil {
		out.fail(bad)
		return
	}
	var v map[string]any
	switch op {
	case "DescribeAgreement":
		v, bad = f.describe(in)
	case "SearchAgreements":
		v, bad = f.search(in)
	case "GetAgreementEntitlements":
		v, bad = f.entitlements(in)
	}
	if bad != nil {
		out.fail(bad)
		return
	}
	out.reply(http.StatusOK, v)
}

// agreementOf reads the request's agreementId and finds the agreement.
func (f *AgreementService) agreementOf(in map[string]any) (*agreementRecord, *agreementFault) {
	id, _ := in["agreementId"].(string)
	if id == "" {
		return nil, validation("MISSING_AGREEMENT_ID", "agreementId is required")
	}
	if !agreementIDPattern.MatchString(id) {
		return nil, validation("INVALID_AGREEMENT_ID", "agreementId is not valid")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.records[id]
	if !ok {
		return nil, &agreementFault{http.StatusBadRequest, "ResourceNotFoundException", "agreement " + id + " not found",
			map[string]any{"resourceId": id, "resourceType": "Agreement"}}
	}
	c := *r
	return &c, nil
}

func (f *AgreementService) describe(in map[string]any) (map[string]any, *agreementFault) {
	r, bad := f.agreementOf(in)
	if bad != nil {
		return nil, bad
	}
	out := summaryOf(r)
	delete(out, "entitlements")
	delete(out, "lastUpdateTime")
	delete(out, "endTimeBehaviorType")
	delete(out, "endTimeBehaviorReasonCode")
	if b := endTimeBehavior(r); b != nil {
		out["endTimeBehavior"] = b
	}
	if r.Value != "" {
		out["estimatedCharges"] = map[string]any{"agreementValue": r.Value, "currencyCode": r.Currency}
	}
	return out, nil
}

// endTimeBehavior is what happens at the agreement's end; nil for one not
// active or without an end.
func endTimeBehavior(r *agreementRecord) map[string]any {
	if r.Status != "ACTIVE" || r.End.IsZero() {
		return nil
	}
	typ, reason := "RENEW", ""
	switch {
	case r.proposerOptOut:
		typ, reason = "EXPIRE", "PROPOSER_RENEW_OPTED_OUT"
	case !r.renewalTerm:
		typ, reason = "EXPIRE", "NO_RENEWAL_TERM"
	case !r.autoRenew:
		typ, reason = "EXPIRE", "ACCEPTOR_RENEW_OPTED_OUT"
	}
	b := map[string]any{"type": typ}
	if reason != "" {
		b["reasonCode"] = reason
	}
	if reason == "" || reason == "PROPOSER_RENEW_OPTED_OUT" || reason == "ACCEPTOR_RENEW_OPTED_OUT" {
		b["renewalSummary"] = map[string]any{"offerId": r.OfferID}
	}
	return b
}

// summaryOf is an agreement as SearchAgreements lists it.
func summaryOf(r *agreementRecord) map[string]any {
	s := map[string]any{"agreementId": r.id, "agreementType": "PurchaseAgreement", "status": r.Status,
		"acceptor": map[string]any{"accountId": r.AcceptorAccountID}, "proposer": map[string]any{"accountId": "000000000000"},
		"initialAgreementId": r.initialID,
		"proposalSummary": map[string]any{"offerId": r.OfferID,
			"resources": []any{map[string]any{"id": r.ProductID, "type": "SaaSProduct"}}}}
	if !r.start.IsZero() {
		s["startTime"], s["acceptanceTime"] = r.start, r.start
	}
	if !r.End.IsZero() {
		s["endTime"] = r.End
	}
	if !r.updated.IsZero() {
		s["lastUpdateTime"] = r.updated
	}
	if r.LicenseArn != "" {
		s["entitlements"] = []any{map[string]any{"licenseArn": r.LicenseArn}}
	}
	if b := endTimeBehavior(r); b != nil {
		s["endTimeBehaviorType"] = b["type"]
		if c, ok := b["reasonCode"]; ok {
			s["endTimeBehaviorReasonCode"] = c
		}
	}
	return s
}

// searchFilters are the filter names SearchAgreements documents, with the
// summary field each compares (times compare by before/after).
var searchFilters = map[string]func(r *agreementRecord) string{
	"ResourceIdentifier": func(r *agreementRecord) string { return r.ProductID },
	"ResourceType":       func(*agreementRecord) string { return "SaaSProduct" },
	"PartyType":          func(*agreementRecord) string { return "Proposer" },
	"AcceptorAccountId":  func(r *agreementRecord) string { return r.AcceptorAccountID },
	"OfferId":            func(r *agreementRecord) string { return r.OfferID },
	"Status":             func(r *agreementRecord) string { return r.Status },
	"AgreementType":      func(*agreementRecord) string { return "PurchaseAgreement" },
	"OfferSetId":         func(*agreementRecord) string { return "" },
	"InitialAgreementId": func(r *agreementRecord) string { return r.initialID },
	"LicenseArn":         func(r *agreementRecord) string { return r.LicenseArn },
	"EndTimeBehaviorType": func(r *agreementRecord) string {
		b := endTimeBehavior(r)
		if b == nil {
			return ""
		}
		return b["type"].(string)
	},
	"EndTimeBehaviorReasonCode": func(r *agreementRecord) string {
		if c, ok := endTimeBehavior(r)["reasonCode"].(string); ok {
			return c
		}
		return ""
	},
}

// timeFilters compare a time of the agreement with the filter's date.
var timeFilters = map[string]func(r *agreementRecord, t time.Time) bool{
	"BeforeEndTime":        func(r *agreementRecord, t time.Time) bool { return !r.End.IsZero() && r.End.Before(t) },
	"AfterEndTime":         func(r *agreementRecord, t time.Time) bool { return !r.End.IsZero() && r.End.After(t) },
	"BeforeStartTime":      func(r *agreementRecord, t time.Time) bool { return r.start.Before(t) },
	"AfterStartTime":       func(r *agreementRecord, t time.Time) bool { return r.start.After(t) },
	"BeforeLastUpdateTime": func(r *agreementRecord, t time.Time) bool { return r.updated.Before(t) },
	"AfterLastUpdateTime":  func(r *agreementRecord, t time.Time) bool { return r.updated.After(t) },
}

// searchFilter is one filter of a SearchAgreements request once checked.
type searchFilter struct {
	name   string
	values []string
	at     time.Time
}

func readFilters(in map[string]any) ([]searchFilter, *agreementFault) {
	list, _ := in["filters"].([]any)
	var out []searchFilter
	typed := false
	for _, x := range list {
		m, _ := x.(map[string]any)
		name, _ := m["name"].(string)
		var values []string
		vs, _ := m["values"].([]any)
		for _, v := range vs {
			if s, ok := v.(string); ok {
				values = append(values, s)
			}
		}
		_, plain := searchFilters[name]
		_, timed := timeFilters[name]
		if !plain && !timed {
			return nil, validation("INVALID_FILTER_NAME", fmt.Sprintf("filter %q is not supported", name))
		}
		if len(values) == 0 {
			return nil, validation("INVALID_FILTER_VALUES", fmt.Sprintf("filter %q needs a value", name))
		}
		f := searchFilter{name: name, values: values}
		if timed {
			t, err := time.Parse(time.RFC3339, values[0])
			if err != nil {
				return nil, validation("INVALID_FILTER_VALUES", fmt.Sprintf("filter %q takes a date (ISO 8601)", name))
			}
			f.at = t
		}
		if name == "AgreementType" {
			typed = true
		}
		out = append(out, f)
	}
	if !typed {
		return nil, validation("MISSING_AGREEMENT_TYPE", "the AgreementType filter is required")
	}
	return out, nil
}

func (f searchFilter) match(r *agreementRecord) bool {
	if cmp, ok := timeFilters[f.name]; ok {
		return cmp(r, f.at)
	}
	got := searchFilters[f.name](r)
	for _, v := range f.values {
		if v == got {
			return true
		}
	}
	return false
}

func (f *AgreementService) search(in map[string]any) (map[string]any, *agreementFault) {
	filters, bad := readFilters(in)
	if bad != nil {
		return nil, bad
	}
	max, bad := maxResults(in, 50)
	if bad != nil {
		return nil, bad
	}
	sortBy, desc, bad := readSort(in)
	if bad != nil {
		return nil, bad
	}
	f.mu.Lock()
	var hits []*agreementRecord
	for _, r := range f.records {
		ok := true
		for _, flt := range filters {
			ok = ok && flt.match(r)
		}
		if ok {
			c := *r
			hits = append(hits, &c)
		}
	}
	f.mu.Unlock()
	sort.SliceStable(hits, func(i, j int) bool {
		a, b := sortBy(hits[i]), sortBy(hits[j])
		if a.Equal(b) {
			return hits[i].id < hits[j].id
		}
		return a.Before(b) != desc
	})
	start, bad := pageStart(in, len(hits))
	if bad != nil {
		return nil, bad
	}
	end := min(start+max, len(hits))
	page := make([]any, 0, end-start)
	for _, r := range hits[start:end] {
		page = append(page, summaryOf(r))
	}
	out := map[string]any{"agreementViewSummaries": page}
	if end < len(hits) {
		out["nextToken"] = "t-" + strconv.Itoa(end)
	}
	return out, nil
}

// readSort reads sort.sortBy (EndTime by default; StartTime and
// LastUpdateTime for a proposer) and sort.sortOrder (ASCENDING by default).
func readSort(in map[string]any) (func(*agreementRecord) time.Time, bool, *agreementFault) {
	s, _ := in["sort"].(map[string]any)
	by, _ := s["sortBy"].(string)
	order, _ := s["sortOrder"].(string)
	if order != "" && order != "ASCENDING" && order != "DESCENDING" {
		return nil, false, validation("INVALID_SORT_ORDER", "sortOrder must be ASCENDING or DESCENDING")
	}
	desc := order == "DESCENDING"
	switch by {
	case "", "EndTime":
		return func(r *agreementRecord) time.Time { return r.End }, desc, nil
	case "StartTime":
		return func(r *agreementRecord) time.Time { return r.start }, desc, nil
	case "LastUpdateTime":
		return func(r *agreementRecord) time.Time { return r.updated }, desc, nil
	}
	return nil, false, validation("INVALID_SORT_BY", "sortBy must be EndTime, StartTime or LastUpdateTime")
}

func maxResults(in map[string]any, def int) (int, *agreementFault) {
	v, ok := in["maxResults"]
	if !ok {
		return def, nil
	}
	n, ok := v.(int64)
	if !ok || n < 1 || n > 50 {
		return 0, validation("INVALID_MAX_RESULTS", "maxResults must be 1 to 50")
	}
	return int(n), nil
}

func pageStart(in map[string]any, total int) (int, *agreementFault) {
	tok, _ := in["nextToken"].(string)
	if tok == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(strings.TrimPrefix(tok, "t-"))
	if err != nil || !strings.HasPrefix(tok, "t-") || n < 0 || n > total {
		return 0, validation("INVALID_NEXT_TOKEN", "nextToken is not valid")
	}
	return n, nil
}

func (f *AgreementService) entitlements(in map[string]any) (map[string]any, *agreementFault) {
	r, bad := f.agreementOf(in)
	if bad != nil {
		return nil, bad
	}
	if _, bad := maxResults(in, 50); bad != nil {
		return nil, bad
	}
	if _, bad := pageStart(in, 1); bad != nil {
		return nil, bad
	}
	status, reason := "PROVISIONED", "AGREEMENT_ACTIVE"
	if r.Status != "ACTIVE" {
		status, reason = "DEPROVISIONED", "AGREEMENT_INACTIVE"
	}
	e := map[string]any{"resource": map[string]any{"id": r.ProductID, "type": "SaaSProduct"}, "type": "SaaS",
		"status": status, "statusReasonCode": reason}
	if r.LicenseArn != "" {
		e["licenseArn"] = r.LicenseArn
	}
	return map[string]any{"agreementEntitlements": []any{e}}, nil
}

// readNested reads a request's members, nested lists and structures
// included (integers come back as int64).
func readNested(r *http.Request, cborWire bool) (map[string]any, *agreementFault) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return nil, &agreementFault{http.StatusBadRequest, "ValidationException", "unreadable body", nil}
	}
	if len(body) == 0 {
		return map[string]any{}, nil
	}
	var v any
	if cborWire {
		c, err := cbor.Decode(body)
		if err != nil {
			return nil, &agreementFault{http.StatusBadRequest, "SerializationException", err.Error(), nil}
		}
		v = fromCBOR(c)
	} else {
		dec := json.NewDecoder(strings.NewReader(string(body)))
		dec.UseNumber()
		if err := dec.Decode(&v); err != nil {
			return nil, &agreementFault{http.StatusBadRequest, "SerializationException", err.Error(), nil}
		}
		v = fromJSON(v)
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, &agreementFault{http.StatusBadRequest, "SerializationException", "the body is not a map", nil}
	}
	return m, nil
}

func fromJSON(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, y := range x {
			x[k] = fromJSON(y)
		}
		return x
	case []any:
		for i, y := range x {
			x[i] = fromJSON(y)
		}
		return x
	case json.Number:
		if n, err := x.Int64(); err == nil {
			return n
		}
		return nil
	}
	return v
}

// DemoTerms are the terms the sandbox's buyers accept: a usage rate card
// (or, for a contract, a configurable upfront one with the units bought)
// over the dimensions, a renewal term with auto-renewal on, a refund
// policy, and a free trial of trialDays (0: none).
func DemoTerms(start time.Time, trialDays int, contract bool, rates []Rate) AgreementTerms {
	on := true
	t := AgreementTerms{Start: start, FreeTrialDays: trialDays, Pricing: "usage", Currency: "USD", Rates: rates, AutoRenew: &on,
		RefundPolicy: "Refunds are considered within 30 days of a charge; contact the seller's support."}
	if contract {
		t.Pricing = "configurable"
	}
	for _, r := range rates {
		t.Dimensions = append(t.Dimensions, r.Dimension)
	}
	return t
}

// EndingEvents are the two variants (Manufacturer, Proposer) of Purchase
// Agreement Ending, "Sent 180, 120, 90, 60, and 30 days before a purchase
// agreement expires": daysBeforeEndTime, endTime and autoRenewalEnabled
// (reference §6.5).
func EndingEvents(id Identity, agreementID string, days int, end time.Time, autoRenew bool, at time.Time) []string {
	return bothVariants("Purchase Agreement Ending", at, map[string]any{"id": agreementID, "status": "ACTIVE", "daysBeforeEndTime": days,
		"endTime": end.UTC().Format(time.RFC3339), "autoRenewalEnabled": autoRenew}, id)
}

// AutoRenewalEvents are the two variants of Purchase Agreement Amended
// (intent AMEND) that tell a party changed auto-renewal
// (autoRenewalEnabled).
func AutoRenewalEvents(id Identity, agreementID string, end time.Time, autoRenew bool, at time.Time) []string {
	return bothVariants("Purchase Agreement Amended", at, map[string]any{"id": agreementID, "status": "ACTIVE", "intent": "AMEND",
		"endTime": end.UTC().Format(time.RFC3339), "autoRenewalEnabled": autoRenew}, id)
}

// bothVariants renders an agreement event as AWS sends it to the ISV on
// its own direct offers: once per role, each with its own id.
func bothVariants(detailType string, at time.Time, agreement map[string]any, id Identity) []string {
	var out []string
	for _, role := range []string{" - Manufacturer", " - Proposer"} {
		out = append(out, eventBody(detailType+role, at, map[string]any{"requestId": newID(), "catalog": "AWSMarketplace",
			"agreement": agreement, "product": map[string]string{"code": id.ProductCode},
			"acceptor": map[string]string{"accountId": id.CustomerAWSAccountID}, "proposer": map[string]string{"accountId": "000000000000"}}))
	}
	return out
}
