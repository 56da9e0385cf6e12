// Package awsfake holds in-process fakes of the AWS Marketplace services
// that speak the real wire protocol (AWS JSON 1.1), so the real
// aws-sdk-go-v2 clients run against them unchanged.
package awsfake

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"
)

// Identity is what ResolveCustomer answers for a token.
type Identity struct {
	CustomerAWSAccountID string `json:"CustomerAWSAccountId,omitempty"`
	LicenseArn           string `json:"LicenseArn,omitempty"`
	ProductCode          string `json:"ProductCode,omitempty"`
	CustomerIdentifier   string `json:"CustomerIdentifier,omitempty"`
}

// TokenLifetime is how long a registration token resolves (about 4 hours).
const TokenLifetime = 4 * time.Hour

type token struct {
	id     Identity
	issued time.Time
}

// Metering fakes AWSMPMeteringService. Safe for concurrent use.
type Metering struct {
	mu     sync.Mutex
	now    func() time.Time
	tokens map[string]token
	fail   map[string][]string // operation → error codes to answer next, in order
	calls  map[string]int

	subscribed map[string]string          // identity key → product code
	dimensions map[string]map[string]bool // product code → metering dimensions
	metered    map[string]*MeteredRecord  // by identity, dimension and hour
	seq        int
	unprocess  int
	drop       int
	log        *os.File // PersistTo

	latency  func()         // SetLatency
	inFlight map[string]int // records (customer|dimension|hour) in calls not yet answered
	overlaps []string       // records that arrived while the same record was in flight
	received map[string]int // how often each record arrived
	outages  []outage       // FailBetween
}

// NewMetering returns an empty fake; now is its clock (nil: time.Now).
func NewMetering(now func() time.Time) *Metering {
	if now == nil {
		now = time.Now
	}
	return &Metering{now: now, tokens: map[string]token{}, fail: map[string][]string{}, calls: map[string]int{},
		subscribed: map[string]string{}, dimensions: map[string]map[string]bool{}, metered: map[string]*MeteredRecord{},
		inFlight: map[string]int{}, received: map[string]int{}}
}

// IssueToken creates a registration token for a buyer, as AWS does when the
// buyer chooses "Set up your account".
func (m *Metering) IssueToken(id Identity) string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	t := "sandbox-" + hex.EncodeToString(b)
	m.mu.Lock()
	m.tokens[t] = token{id: id, issued: m.now()}
	for _, k := range identityKeys(id) {
		m.subscribed[k] = id.ProductCode
	}
	m.mu.Unlock()
	return t
}

// FailNext makes the next n calls of an operation (e.g. "ResolveCustomer")
// answer with the error code (ThrottlingException, InternalServiceErrorException, ...).
func (m *Metering) FailNext(operation, code string, n int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := 0; i < n; i++ {
		m.fail[operation] = append(m.fail[operation], code)
	}
}

// Calls reports how many times an operation was called.
func (m *Metering) Calls(operation string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.calls[operation]
}

const meteringPrefix = "AWSMPMeteringService."

func (m *Metering) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	target := r.Header.Get("X-Amz-Target")
	if r.Method != http.MethodPost || !strings.HasPrefix(target, meteringPrefix) {
		writeError(w, http.StatusBadRequest, "UnknownOperationException", "unknown operation "+target)
		return
	}
	op := strings.TrimPrefix(target, meteringPrefix)
	m.mu.Lock()
	m.calls[op]++
	var code string
	if q := m.fail[op]; len(q) > 0 {
		code, m.fail[op] = q[0], q[1:]
	}
	if code == "" {
		code = m.outageCodeLocked(op)
	}
	m.mu.Unlock()
	if code != "" {
		status := http.StatusBadRequest
		if code == "InternalServiceErrorException" || code == "ServiceUnavailable" {
			status = http.StatusInternalServerError
		}
		writeError(w, status, code, "injected by the sandbox")
		return
	}
	switch op {
	case "ResolveCustomer":
		m.resolveCustomer(w, r)
	case "BatchMeterUsage":
		m.batchMeterUsage(w, r)
	default:
		writeError(w, http.StatusBadRequest, "UnknownOperationException", "the sandbox does not implement "+op)
	}
}

func (m *Metering) resolveCustomer(w http.ResponseWriter, r *http.Request) {
	var in struct{ RegistrationToken string }
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.RegistrationToken == "" {
		writeError(w, http.StatusBadRequest, "InvalidTokenException", "registration token is missing or malformed")
		return
	}
	m.mu.Lock()
	t, ok := m.tokens[in.RegistrationToken]
	now := m.now()
	m.mu.Unlock()
	switch {
	case !ok:
		writeError(w, http.StatusBadRequest, "InvalidTokenException", "registration token is invalid")
	case now.Sub(t.issued) > TokenLifetime:
		writeError(w, http.StatusBadRequest, "ExpiredTokenException", "registration token has expired")
	default:
		writeJSON(w, t.id) // reusable within its lifetime: same answer every time
	}
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": code, "message": message})
}
