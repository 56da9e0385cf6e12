package awsfake

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Entitlement is one dimension a buyer is entitled to.
type Entitlement struct {
	Identity
	Dimension  string
	Value      int32
	Expiration time.Time
}

// Entitlements fakes AWSMPEntitlementService.GetEntitlements (AWS JSON
// 1.1), with AWS's paging quirk: pages of PageSize (default 2), and an
// empty page carrying a NextToken before the last one.
type Entitlements struct {
	mu       sync.Mutex
	items    []Entitlement
	PageSize int
	fail     []string
	queries  int // first-page requests: one per GetEntitlements walk
}

// Calls reports how many entitlement reads started (first pages only).
func (e *Entitlements) Calls() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.queries
}

// NewEntitlements returns an empty fake.
func NewEntitlements() *Entitlements { return &Entitlements{PageSize: 2} }

// The grants are kept per buyer, by the key of the buyer's model
// (identityKey): a legacy buyer's by product code and CustomerIdentifier,
// whether the caller names them with or without the account and license
// AWS also gave them; a concurrent-agreements buyer's by account and
// license. Each grant carries the buyer's full identity, so GetEntitlements
// finds it by any filter AWS allows (CUSTOMER_IDENTIFIER for a legacy
// product, CUSTOMER_AWS_ACCOUNT_ID or LICENSE_ARN otherwise).

// Set replaces the entitlements of one license (or legacy customer).
func (e *Entitlements) Set(id Identity, ents ...Entitlement) {
	e.mu.Lock()
	defer e.mu.Unlock()
	key := identityKey(id)
	kept := e.items[:0]
	for _, it := range e.items {
		if identityKey(it.Identity) != key {
			kept = append(kept, it)
			continue
		}
		// The caller may name the buyer by fewer fields than AWS gave
		// them (a legacy customer without their license): keep the rest.
		id.CustomerAWSAccountID = cmp.Or(id.CustomerAWSAccountID, it.CustomerAWSAccountID)
		id.LicenseArn = cmp.Or(id.LicenseArn, it.LicenseArn)
		id.CustomerIdentifier = cmp.Or(id.CustomerIdentifier, it.CustomerIdentifier)
	}
	for _, it := range ents {
		it.Identity = id
		kept = append(kept, it)
	}
	e.items = kept
}

// Of returns the entitlements of one license (or legacy customer), as
// GetEntitlements would list them.
func (e *Entitlements) Of(id Identity) []Entitlement {
	e.mu.Lock()
	defer e.mu.Unlock()
	key := identityKey(id)
	var out []Entitlement
	for _, it := range e.items {
		if identityKey(it.Identity) == key {
			out = append(out, it)
		}
	}
	return out
}

// Expire ends every grant of one license (or legacy customer) that would
// still be valid at `at`, as AWS does when a contract is cancelled or
// expires: GetEntitlements then lists it with that past ExpirationDate
// ("a past date … means not entitled", reference §5).
func (e *Entitlements) Expire(id Identity, at time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	key := identityKey(id)
	for i := range e.items {
		if identityKey(e.items[i].Identity) == key && e.items[i].Expiration.After(at) {
			e.items[i].Expiration = at
		}
	}
}

// FailNext makes the next n calls answer with the error code.
func (e *Entitlements) FailNext(code string, n int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for i := 0; i < n; i++ {
		e.fail = append(e.fail, code)
	}
}

func (e *Entitlements) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("X-Amz-Target") != "AWSMPEntitlementService.GetEntitlements" {
		writeError(w, http.StatusBadRequest, "UnknownOperationException", "unknown operation")
		return
	}
	if code := e.takeFailure(); code != "" {
		status := http.StatusBadRequest
		if code == "InternalServiceErrorException" {
			status = http.StatusInternalServerError
		}
		writeError(w, status, code, "injected by the sandbox")
		return
	}
	in, bad := readEntitlementsRequest(r)
	if bad != nil {
		bad.write(w)
		return
	}
	found, size := e.find(in)
	// Tokens: "p<start>" for a page of entitlements, "e<start>" for the
	// empty page AWS sends before the last one.
	start, empty := 0, false
	if in.NextToken != "" {
		n, err := strconv.Atoi(in.NextToken[1:])
		if err != nil || (in.NextToken[0] != 'p' && in.NextToken[0] != 'e') {
			writeError(w, http.StatusBadRequest, "InvalidParameterException", "invalid NextToken")
			return
		}
		start, empty = n, in.NextToken[0] == 'e'
	}
	out := map[string]any{"Entitlements": []any{}}
	if empty {
		if start < len(found) {
			out["NextToken"] = fmt.Sprintf("p%d", start)
		}
		writeJSON(w, out)
		return
	}
	end := min(start+size, len(found))
	if page := entitlementsPage(found[start:end]); page != nil {
		out["Entitlements"] = page
	}
	if end < len(found) {
		out["NextToken"] = fmt.Sprintf("e%d", end) // an empty page comes next
	}
	if strings.TrimSpace(in.NextToken) == "" && len(found) == 0 {
		out["NextToken"] = "e0" // even "nothing" starts with an empty page and a token
	}
	writeJSON(w, out)
}

// takeFailure answers the next error code FailNext injected, if any.
func (e *Entitlements) takeFailure() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var code string
	if len(e.fail) > 0 {
		code, e.fail = e.fail[0], e.fail[1:]
	}
	return code
}

// entitlementsRequest is the body of a GetEntitlements call.
type entitlementsRequest struct {
	ProductCode string
	Filter      map[string][]string
	NextToken   string
	MaxResults  int
}

// readEntitlementsRequest decodes a GetEntitlements body and checks its
// ProductCode and filters.
func readEntitlementsRequest(r *http.Request) (entitlementsRequest, *awsError) {
	var in entitlementsRequest
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.ProductCode == "" || len(in.ProductCode) > 255 {
		return in, badRequest("InvalidParameterException", "ProductCode is required")
	}
	if in.Filter["CUSTOMER_IDENTIFIER"] != nil && in.Filter["CUSTOMER_AWS_ACCOUNT_ID"] != nil {
		return in, badRequest("InvalidParameterException", "CUSTOMER_IDENTIFIER and CUSTOMER_AWS_ACCOUNT_ID are mutually exclusive")
	}
	return in, nil
}

// matches tells whether the filter lets v through for key: a filter not
// given lets everything through, one given lets through the values it lists.
func (in entitlementsRequest) matches(key, v string) bool {
	vals, ok := in.Filter[key]
	if !ok {
		return true
	}
	for _, x := range vals {
		if x == v {
			return true
		}
	}
	return false
}

// find answers the entitlements the request's product and filters select
// and the page size, counting a query when the request asks for its first page.
func (e *Entitlements) find(in entitlementsRequest) ([]Entitlement, int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if in.NextToken == "" {
		e.queries++
	}
	var found []Entitlement
	for _, it := range e.items {
		if it.ProductCode == in.ProductCode && in.matches("CUSTOMER_IDENTIFIER", it.CustomerIdentifier) &&
			in.matches("CUSTOMER_AWS_ACCOUNT_ID", it.CustomerAWSAccountID) && in.matches("LICENSE_ARN", it.LicenseArn) && in.matches("DIMENSION", it.Dimension) {
			found = append(found, it)
		}
	}
	return found, e.PageSize
}

// entitlementsPage is the wire form of a page of entitlements (nil for none).
func entitlementsPage(items []Entitlement) []any {
	var page []any
	for _, it := range items {
		page = append(page, map[string]any{"CustomerIdentifier": it.CustomerIdentifier, "CustomerAWSAccountId": it.CustomerAWSAccountID,
			"LicenseArn": it.LicenseArn, "ProductCode": it.ProductCode, "Dimension": it.Dimension,
			"ExpirationDate": it.Expiration.Unix(), "Value": map[string]int32{"IntegerValue": it.Value}})
	}
	return page
}
