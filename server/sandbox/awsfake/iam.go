package awsfake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
)

// IAM is the simulated account's credentials: which access keys exist,
// whose they are, and which actions a key may not perform. Guard puts it
// in front of a fake (failure injection for the setup checks); the STS
// fake answers GetCallerIdentity from it. Safe for concurrent use.
type IAM struct {
	mu   sync.Mutex
	keys map[string]Principal // by access key id
}

// Principal is the IAM identity an access key belongs to.
type Principal struct {
	Account string // 12 digits
	ARN     string // arn:aws:iam::ACCOUNT:user/NAME (or an assumed role)
	UserID  string // the unique id GetCallerIdentity answers (AIDA… for a user)
	// Deny lists the IAM actions ("aws-marketplace:ResolveCustomer",
	// "sqs:GetQueueAttributes", …) this principal's policies do not allow.
	Deny []string
}

// NewIAM returns an account with no access keys.
func NewIAM() *IAM { return &IAM{keys: map[string]Principal{}} }

// AddKey makes an access key id known (every secret is accepted: the
// fakes do not check signatures, only who signed).
func (i *IAM) AddKey(accessKeyID string, p Principal) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.keys[accessKeyID] = p
}

// Lookup returns the principal of an access key id.
func (i *IAM) Lookup(accessKeyID string) (Principal, bool) {
	i.mu.Lock()
	defer i.mu.Unlock()
	p, ok := i.keys[accessKeyID]
	return p, ok
}

// AccessKeyOf reads the access key id from a SigV4 Authorization header:
// "AWS4-HMAC-SHA256 Credential=AKID/DATE/REGION/SERVICE/aws4_request, …".
func AccessKeyOf(r *http.Request) string {
	h := r.Header.Get("Authorization")
	_, cred, ok := strings.Cut(h, "Credential=")
	if !ok {
		return ""
	}
	id, _, _ := strings.Cut(cred, "/")
	return strings.TrimSpace(id)
}

// jsonAction maps an AWS JSON protocol X-Amz-Target to its IAM action
// ("AWSMPMeteringService.ResolveCustomer" → "aws-marketplace:ResolveCustomer").
func jsonAction(target string) string {
	prefix, op, ok := strings.Cut(target, ".")
	if !ok {
		return ""
	}
	switch prefix {
	case "AWSMPMeteringService", "AWSMPEntitlementService", "AWSMPCommerceService_v20200301":
		return "aws-marketplace:" + op
	case "AmazonSQS":
		return "sqs:" + op
	}
	return strings.ToLower(prefix) + ":" + op
}

// Guard answers as AWS does when the request's access key is unknown
// (UnrecognizedClientException: "The security token included in the
// request is invalid.") or its principal may not perform the action
// (AccessDeniedException: "User: ARN is not authorized to perform:
// ACTION"), and passes every other request to h. It serves the AWS JSON
// protocols (the action comes from X-Amz-Target); SQS's errors carry its
// X-Amzn-Query-Error header as SQS's JSON protocol does.
func (i *IAM) Guard(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		target := r.Header.Get("X-Amz-Target")
		sqs := strings.HasPrefix(target, "AmazonSQS.")
		p, ok := i.Lookup(AccessKeyOf(r))
		if !ok {
			guardError(w, sqs, "UnrecognizedClientException", "InvalidClientTokenId", "The security token included in the request is invalid.")
			return
		}
		if action := jsonAction(target); slices.Contains(p.Deny, action) {
			guardError(w, sqs, "AccessDeniedException", "AccessDenied",
				fmt.Sprintf("User: %s is not authorized to perform: %s because no identity-based policy allows the %s action", p.ARN, action, action))
			return
		}
		h.ServeHTTP(w, r)
	})
}

func guardError(w http.ResponseWriter, sqs bool, code, queryCode, msg string) {
	typ := code
	if sqs {
		typ = "com.amazon.coral.service#" + code
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		w.Header().Set("X-Amzn-Query-Error", queryCode+";Sender")
	} else {
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	}
	status := http.StatusBadRequest
	if code == "UnrecognizedClientException" && sqs {
		status = http.StatusForbidden
	}
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": typ, "message": msg})
}
