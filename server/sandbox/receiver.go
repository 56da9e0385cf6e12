package sandbox

import (
	"net/http"
	"strings"
)

// ReceiverHost is the host of the sandbox's webhook receivers: the demo's
// outbound webhook endpoints point at it, and in sandbox mode the webhook
// dispatcher reaches it in process (ReceiverClient). Under it, /billing
// accepts every delivery (204) and /legacy-crm answers 500, as a
// receiver that is down.
const ReceiverHost = "webhooks.sandbox.invalid"

// The demo's endpoints.
const (
	ReceiverAccepting = "https://" + ReceiverHost + "/billing"
	ReceiverFailing   = "https://" + ReceiverHost + "/legacy-crm"
)

// Receiver answers deliveries as the demo's two receivers do.
func Receiver() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method != http.MethodPost:
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		case strings.HasPrefix(r.URL.Path, "/legacy-crm"):
			http.Error(w, "legacy CRM: upstream database unavailable", http.StatusInternalServerError)
		default:
			w.WriteHeader(http.StatusNoContent)
		}
	})
}

// ReceiverClient is base, except that requests to ReceiverHost are
// answered by Receiver in process.
func ReceiverClient(base *http.Client) *http.Client {
	c := *base
	next := base.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	c.Transport = receiverTransport{next: next, local: handlerTransport{Receiver()}}
	return &c
}

type receiverTransport struct {
	next  http.RoundTripper
	local http.RoundTripper
}

func (t receiverTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Hostname() == ReceiverHost {
		return t.local.RoundTrip(r)
	}
	return t.next.RoundTrip(r)
}
