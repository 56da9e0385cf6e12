package awsfake

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/smithy-go/encoding/cbor"
)

// AgreementService fakes the AWS Marketplace Agreement Service
// (AWSMPCommerceService_v20200301) for GetAgreementTerms. The service
// speaks AWS JSON 1.0 (POST /, X-Amz-Target
// "AWSMPCommerceService_v20200301.GetAgreementTerms") and, since the SDK
// release of October 2026, Smithy RPC v2 CBOR (POST
// /service/AWSMPCommerceService_v20200301/operation/GetAgreementTerms,
// Smithy-Protocol: rpc-v2-cbor), which aws-sdk-go-v2's client
// (marketplaceagreement v1.30.8) prefers. Both are answered. Members are
// camelCase; timestamps are epoch seconds (a JSON number, or CBOR tag 1);
// an accepted term is a union: an object with exactly one member
// ("freeTrialPricingTerm", "validityTerm", …).
type AgreementService struct {
	mu       sync.Mutex
	terms    map[string][]map[string]any // agreement id → accepted terms
	records  map[string]*agreementRecord // agreement id → DescribeAgreement's answer (agreement_describe.go)
	PageSize int                         // terms per page when the caller asks for more (default 2: paging is exercised)
	fail     []string
	calls    int

	moneyState // refunds, cancellations, payment requests (agreement_money.go)
}

// NewAgreementService returns an empty fake.
func NewAgreementService() *AgreementService {
	return &AgreementService{terms: map[string][]map[string]any{}, PageSize: 2}
}

// AgreementTerms is what the sandbox's buyers accept.
type AgreementTerms struct {
	FreeTrialDays int       // 0: no FreeTrialPricingTerm
	Start         time.Time // the ValidityTerm's agreementStartDate (zero: none)
	Dimensions    []string  // granted by the free trial
	// The pricing the buyer accepted (agreement_describe.go): "usage"
	// (UsageBasedPricingTerm), "configurable" (ConfigurableUpfrontPricingTerm,
	// Rates' Units bought), "fixed" (FixedUpfrontPricingTerm); "" none.
	Pricing      string
	Currency     string // default USD
	Rates        []Rate
	UpfrontPrice string    // fixed upfront: the price
	Duration     string    // ISO 8601 (default P12M)
	End          time.Time // the ValidityTerm's agreementEndDate (zero: none)
	RefundPolicy string    // a SupportTerm when set
	AutoRenew    *bool     // a RenewalTerm when set, with the buyer's enableAutoRenew
}

// SetTerms records an agreement's accepted terms (a legal term, a
// validity term, and a free-trial term when FreeTrialDays > 0).
func (f *AgreementService) SetTerms(agreementID string, t AgreementTerms) {
	terms := []map[string]any{
		{"legalTerm": map[string]any{"id": "term-legal", "type": "LegalTerm",
			"documents": []any{map[string]any{"type": "StandardEula", "url": "https://aws.amazon.com/marketplace/eula"}}}},
	}
	validity := map[string]any{"id": "term-validity", "type": "ValidityTerm", "agreementDuration": duration(t)}
	if !t.Start.IsZero() {
		validity["agreementStartDate"] = t.Start.UTC()
	}
	if !t.End.IsZero() {
		validity["agreementEndDate"] = t.End.UTC()
	}
	terms = append(terms, map[string]any{"validityTerm": validity})
	if t.FreeTrialDays > 0 {
		grants := []any{}
		for _, d := range t.Dimensions {
			grants = append(grants, map[string]any{"dimensionKey": d})
		}
		terms = append(terms, map[string]any{"freeTrialPricingTerm": map[string]any{"id": "term-trial", "type": "FreeTrialPricingTerm",
			"duration": fmt.Sprintf("P%dD", t.FreeTrialDays), "grants": grants}})
	}
	terms = append(terms, pricingTerms(t)...)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.terms[agreementID] = terms
	r := f.recordLocked(agreementID)
	r.start, r.renewalTerm = t.Start.UTC(), t.AutoRenew != nil
	if t.AutoRenew != nil {
		r.autoRenew = *t.AutoRenew
	}
	if !t.End.IsZero() {
		r.End = t.End.UTC()
	} else if r.End.IsZero() && !t.Start.IsZero() {
		r.End = t.Start.UTC().AddDate(1, 0, 0)
	}
	if r.updated.IsZero() {
		r.updated = t.Start.UTC()
	}
}

// FailNext makes the next n calls answer with the error code.
func (f *AgreementService) FailNext(code string, n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := 0; i < n; i++ {
		f.fail = append(f.fail, code)
	}
}

// Calls is how many requests the fake answered.
func (f *AgreementService) Calls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

const agreementService = "AWSMPCommerceService_v20200301"

var agreementIDPattern = regexp.MustCompile(`^[A-Za-z0-9_/-]{1,64}$`)

func (f *AgreementService) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	out := agreementWire{w: w, cbor: r.Header.Get("Smithy-Protocol") == "rpc-v2-cbor"}
	op := agreementOperation(r, out.cbor)
	if op == "" {
		out.fail(&agreementFault{http.StatusBadRequest, "UnknownOperationException", "unknown operation", nil})
		return
	}
	if code := f.startCall(); code != "" {
		status := http.StatusBadRequest
		if code == "InternalServerException" {
			status = http.StatusInternalServerError
		}
		out.fail(&agreementFault{status, code, "injected by the sandbox", nil})
		return
	}
	if _, ok := moneyOperations[op]; ok {
		f.serveMoney(op, r, out)
		return
	}
	if op != "GetAgreementTerms" {
		f.serveDescribe(out, op, r)
		return
	}
	in, bad := f.readTermsRequest(r, out.cbor)
	if bad != nil {
		out.fail(bad)
		return
	}
	f.mu.Lock()
	terms, ok := f.terms[in.agreementID]
	f.mu.Unlock()
	if !ok {
		out.fail(&agreementFault{http.StatusBadRequest, "ResourceNotFoundException", "agreement " + in.agreementID + " not found",
			map[string]any{"resourceId": in.agreementID, "resourceType": "Agreement"}})
		return
	}
	start := 0
	if in.nextToken != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(in.nextToken, "t-"))
		if err != nil || n < 0 || n > len(terms) {
			out.fail(&agreementFault{http.StatusBadRequest, "ValidationException", "nextToken is not valid", map[string]any{"reason": "INVALID_NEXT_TOKEN"}})
			return
		}
		start = n
	}
	out.reply(http.StatusOK, termsPage(terms, start, in.maxResults))
}

// agreementOperation names the operation a request calls on either wire
// protocol ("" for one the fake does not serve).
func agreementOperation(r *http.Request, cborWire bool) string {
	switch {
	case r.Method != http.MethodPost:
	case cborWire && strings.HasSuffix(r.URL.Path, "/service/"+agreementService+"/operation/GetAgreementTerms"):
		return "GetAgreementTerms"
	case !cborWire && r.Header.Get("X-Amz-Target") == agreementService+".GetAgreementTerms":
		return "GetAgreementTerms"
	case moneyOperation(r, cborWire) != "":
		return moneyOperation(r, cborWire)
	}
	for _, op := range describeOperations {
		if r.Method != http.MethodPost {
			break
		}
		if cborWire && strings.HasSuffix(r.URL.Path, "/service/"+agreementService+"/operation/"+op) ||
			!cborWire && r.Header.Get("X-Amz-Target") == agreementService+"."+op {
			return op
		}
	}
	return ""
}

// agreementWire answers in the protocol the request came in: Smithy RPC v2
// CBOR or AWS JSON 1.0.
type agreementWire struct {
	w    http.ResponseWriter
	cbor bool
}

func (a agreementWire) reply(status int, v map[string]any) {
	if a.cbor {
		a.w.Header().Set("Smithy-Protocol", "rpc-v2-cbor")
		a.w.Header().Set("Content-Type", "application/cbor")
		a.w.WriteHeader(status)
		_, _ = a.w.Write(cbor.Encode(toCBOR(v)))
		return
	}
	a.w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	a.w.WriteHeader(status)
	_ = json.NewEncoder(a.w).Encode(toJSON(v))
}

// agreementFault is an error answer of the Agreement Service: its status,
// __type, message and any further members (reason, resourceId, …).
type agreementFault struct {
	status int
	code   string
	msg    string
	extra  map[string]any
}

func (a agreementWire) fail(e *agreementFault) {
	v := map[string]any{"__type": e.code, "message": e.msg}
	for k, x := range e.extra {
		v[k] = x
	}
	a.reply(e.status, v)
}

// startCall counts a call and answers the next error code FailNext
// injected, if any.
func (f *AgreementService) startCall() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	var code string
	if len(f.fail) > 0 {
		code, f.fail = f.fail[0], f.fail[1:]
	}
	return code
}

// termsRequest is a GetAgreementTerms request once read and checked.
type termsRequest struct {
	agreementID string
	maxResults  int // the page size: the fake's PageSize unless the request asks for fewer
	nextToken   string
}

// readTermsRequest reads and checks a GetAgreementTerms request: its
// agreementId and maxResults.
func (f *AgreementService) readTermsRequest(r *http.Request, cborWire bool) (termsRequest, *agreementFault) {
	var out termsRequest
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return out, &agreementFault{http.StatusBadRequest, "ValidationException", "unreadable body", nil}
	}
	in, err := decodeInput(body, cborWire)
	if err != nil {
		return out, &agreementFault{http.StatusBadRequest, "SerializationException", err.Error(), nil}
	}
	id, _ := in["agreementId"].(string)
	if id == "" {
		return out, &agreementFault{http.StatusBadRequest, "ValidationException", "agreementId is required", map[string]any{"reason": "MISSING_AGREEMENT_ID"}}
	}
	if !agreementIDPattern.MatchString(id) {
		return out, &agreementFault{http.StatusBadRequest, "ValidationException", "agreementId is not valid", map[string]any{"reason": "INVALID_AGREEMENT_ID"}}
	}
	max := f.PageSize
	if v, ok := in["maxResults"]; ok {
		n, ok := v.(int64)
		if !ok || n < 1 || n > 50 {
			return out, &agreementFault{http.StatusBadRequest, "ValidationException", "maxResults must be 1 to 50", map[string]any{"reason": "INVALID_MAX_RESULTS"}}
		}
		max = min(int(n), max)
	}
	out.agreementID, out.maxResults = id, max
	out.nextToken, _ = in["nextToken"].(string)
	return out, nil
}

// termsPage answers up to max terms from start, with the token of the
// next page when more follow.
func termsPage(terms []map[string]any, start, max int) map[string]any {
	end := min(start+max, len(terms))
	page := make([]any, 0, end-start)
	for _, t := range terms[start:end] {
		page = append(page, t)
	}
	out := map[string]any{"acceptedTerms": page}
	if end < len(terms) {
		out["nextToken"] = "t-" + strconv.Itoa(end)
	}
	return out
}

// decodeInput reads the request's members; integers come back as int64.
func decodeInput(body []byte, cborWire bool) (map[string]any, error) {
	out := map[string]any{}
	if len(body) == 0 {
		return out, nil
	}
	if !cborWire {
		dec := json.NewDecoder(strings.NewReader(string(body)))
		dec.UseNumber()
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			return nil, err
		}
		for k, v := range m {
			if n, ok := v.(json.Number); ok {
				i, err := n.Int64()
				if err != nil {
					return nil, fmt.Errorf("%s is not an integer", k)
				}
				out[k] = i
				continue
			}
			out[k] = v
		}
		return out, nil
	}
	v, err := cbor.Decode(body)
	if err != nil {
		return nil, err
	}
	m, ok := v.(cbor.Map)
	if !ok {
		return nil, fmt.Errorf("the body is not a CBOR map")
	}
	for k, x := range m {
		switch y := x.(type) {
		case cbor.String:
			out[k] = string(y)
		case cbor.Uint:
			out[k] = int64(y)
		case cbor.NegInt:
			out[k] = -int64(y)
		}
	}
	return out, nil
}

// toJSON renders timestamps as epoch seconds (AWS JSON 1.0).
func toJSON(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, y := range x {
			out[k] = toJSON(y)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, y := range x {
			out[i] = toJSON(y)
		}
		return out
	case time.Time:
		return x.Unix()
	}
	return v
}

// toCBOR renders a value the way the RPC v2 CBOR protocol encodes it
// (timestamps as tag 1 over epoch seconds).
func toCBOR(v any) cbor.Value {
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		out := cbor.Map{}
		for _, k := range keys {
			out[k] = toCBOR(x[k])
		}
		return out
	case []any:
		out := make(cbor.List, len(x))
		for i, y := range x {
			out[i] = toCBOR(y)
		}
		return out
	case string:
		return cbor.String(x)
	case bool:
		return cbor.Bool(x)
	case int:
		if x < 0 {
			return cbor.NegInt(uint64(-x))
		}
		return cbor.Uint(uint64(x))
	case time.Time:
		return &cbor.Tag{ID: 1, Value: cbor.Uint(uint64(x.Unix()))}
	}
	return &cbor.Nil{}
}
