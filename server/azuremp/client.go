// Package azuremp talks to Microsoft's commercial marketplace: the SaaS
// Fulfillment v2 and Operations APIs with an Entra client-credentials token
// (azidentity), lenient decoding of what Microsoft and its emulator send,
// and verification of the Entra tokens on Microsoft's notifications and sign-ins.
// It also holds the flows built on them: the buyer's landing (Entra
// sign-in, resolve, welcome, activation), Microsoft's notifications, the
// seller's plan, seat and cancellation operations, and reconciliation.
//
// Names: a "notification" is Microsoft's inbound call about a
// subscription (Microsoft's documentation calls it the webhook; its URL
// and stored source keep that word); "webhook" in this codebase means
// the seller's outbound endpoints (server/webhooks) only.
package azuremp

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/marketgate/marketgate/server/telemetry"
)

// Resource is the marketplace's application id: tokens are issued for it,
// and the notification tokens come from it.
const Resource = "20e940b3-4c77-4b0b-9a53-9e16a1b010a7"

// APIVersion is the only api-version the SaaS API accepts.
const APIVersion = "2018-08-31"

// DefaultAPIURL is the SaaS Fulfillment, Operations and Metering base URL.
const DefaultAPIURL = "https://marketplaceapi.microsoft.com/api"

// DefaultLoginURL is Entra's authority host.
const DefaultLoginURL = "https://login.microsoftonline.com"

// Config says who the publisher is and where Microsoft is.
type Config struct {
	TenantID     string // the publisher's Entra tenant
	ClientID     string // the publisher's app (client) id, as in Partner Center
	ClientSecret string
	APIURL       string // SaaS Fulfillment/Operations base URL (default DefaultAPIURL)
	MeteringURL  string // metering base URL (default APIURL)
	LoginURL     string // Entra authority host for sign-in and signing keys (default DefaultLoginURL)
	// TokenAuthority is the authority host azidentity asks for tokens
	// (https only; default LoginURL). TokenHTTP, when set, is its transport.
	TokenAuthority string
	TokenHTTP      *http.Client
	HTTP           *http.Client // API calls (default: 15 s timeout)
	// Metrics records every API call (nil: none).
	Metrics *telemetry.Metrics
}

func (c *Config) defaults() {
	if c.APIURL == "" {
		c.APIURL = DefaultAPIURL
	}
	c.APIURL = strings.TrimRight(c.APIURL, "/")
	if c.MeteringURL == "" {
		c.MeteringURL = c.APIURL
	}
	c.MeteringURL = strings.TrimRight(c.MeteringURL, "/")
	if c.LoginURL == "" {
		c.LoginURL = DefaultLoginURL
	}
	c.LoginURL = strings.TrimRight(c.LoginURL, "/")
	if c.TokenAuthority == "" {
		c.TokenAuthority = c.LoginURL
	}
	if c.HTTP == nil {
		c.HTTP = &http.Client{Timeout: 15 * time.Second}
	}
}

// Client calls the SaaS Fulfillment and Operations APIs.
type Client struct {
	cfg  Config
	cred azcore.TokenCredential
}

// New builds a client. The token comes from Entra's client-credentials flow
// through azidentity, which caches it until shortly before it expires.
func New(cfg Config) (*Client, error) {
	cfg.defaults()
	if cfg.TenantID == "" || cfg.ClientID == "" || cfg.ClientSecret == "" {
		return nil, errors.New("the Microsoft tenant id, client id and client secret are all required")
	}
	opts := &azidentity.ClientSecretCredentialOptions{DisableInstanceDiscovery: true}
	opts.Cloud = cloud.Configuration{ActiveDirectoryAuthorityHost: strings.TrimRight(cfg.TokenAuthority, "/") + "/"}
	if cfg.TokenHTTP != nil {
		opts.Transport = cfg.TokenHTTP
	}
	cred, err := azidentity.NewClientSecretCredential(cfg.TenantID, cfg.ClientID, cfg.ClientSecret, opts)
	if err != nil {
		return nil, fmt.Errorf("microsoft credentials: %w", err)
	}
	return &Client{cfg: cfg, cred: cred}, nil
}

// Config returns the client's configuration (with defaults applied).
func (c *Client) Config() Config { return c.cfg }

// APIError is a call the marketplace answered with an error status. Its
// Message is Microsoft's own text, for the seller.
type APIError struct {
	Status        int
	Code          string
	Message       string
	Body          string
	RequestID     string
	CorrelationID string
}

func (e *APIError) Error() string {
	msg := e.Message
	if msg == "" {
		msg = http.StatusText(e.Status)
	}
	return fmt.Sprintf("microsoft marketplace: HTTP %d: %s", e.Status, msg)
}

// Retryable reports whether the same call may succeed later.
func (e *APIError) Retryable() bool { return e.Status >= 500 || e.Status == http.StatusTooManyRequests }

// ErrOperationInProgress: another operation is pending on the subscription
// (409 from Microsoft, 400 "locked" from its emulator).
var ErrOperationInProgress = errors.New("another operation is in progress on this subscription")

// StatusOf returns the HTTP status of an APIError (0 for other errors).
func StatusOf(err error) int {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Status
	}
	return 0
}

type response struct {
	status int
	body   []byte
	header http.Header
}

// NewGUID returns a random (version 4) GUID, as Microsoft's ids look.
func NewGUID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6], b[8] = b[6]&0x0f|0x40, b[8]&0x3f|0x80
	h := hex.EncodeToString(b)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// do sends one request to base+path with api-version and a fresh token.
func (c *Client) do(ctx context.Context, method, base, path string, query url.Values, body any, header map[string]string) (*response, error) {
	tok, err := c.cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{Resource + "/.default"}})
	if err != nil {
		return nil, fmt.Errorf("microsoft token: %w", err)
	}
	if query == nil {
		query = url.Values{}
	}
	query.Set("api-version", APIVersion)
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, base+path+"?"+query.Encode(), rd)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+tok.Token)
	req.Header.Set("x-ms-requestid", NewGUID())
	req.Header.Set("x-ms-correlationid", NewGUID())
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	start, status := time.Now(), 0
	defer func() {
		c.cfg.Metrics.Call("azure", operationName(method, path), telemetry.OutcomeOfStatus(status), time.Since(start))
	}()
	resp, err := c.cfg.HTTP.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	status = resp.StatusCode
	b, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return nil, err
	}
	r := &response{status: resp.StatusCode, body: b, header: resp.Header}
	if resp.StatusCode >= 300 {
		return r, apiError(r)
	}
	return r, nil
}

// apiError keeps the raw body and Microsoft's message, whatever the 4xx
// body's shape ({"error":{code,message}}, {code,message}, text).
func apiError(r *response) *APIError {
	e := &APIError{Status: r.status, Body: string(r.body), RequestID: r.header.Get("x-ms-requestid"),
		CorrelationID: r.header.Get("x-ms-correlationid")}
	var v struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Error   *struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(r.body, &v) == nil {
		e.Code, e.Message = v.Code, v.Message
		if v.Error != nil {
			e.Code, e.Message = cmp.Or(v.Error.Code, e.Code), cmp.Or(v.Error.Message, e.Message)
		}
	} else {
		e.Message = strings.TrimSpace(string(r.body))
	}
	if len(e.Message) > 500 {
		e.Message = e.Message[:500]
	}
	return e
}

// Resolve turns a purchase token (as the landing page received it, already
// URL-decoded) into the subscription it names.
func (c *Client) Resolve(ctx context.Context, token string) (Resolved, error) {
	// Senders that forget to URL-encode the token turn its '+' into spaces.
	token = strings.ReplaceAll(strings.TrimSpace(token), " ", "+")
	r, err := c.do(ctx, http.MethodPost, c.cfg.APIURL, "/saas/subscriptions/resolve", nil, nil,
		map[string]string{"x-ms-marketplace-token": token})
	if err != nil {
		return Resolved{}, err
	}
	var out Resolved
	if err := json.Unmarshal(r.body, &out); err != nil {
		return Resolved{}, fmt.Errorf("resolve: unreadable answer: %w", err)
	}
	out.Raw = json.RawMessage(bytes.TrimSpace(r.body))
	if out.Subscription.ID == "" {
		out.Subscription.ID = out.ID
	}
	if out.Subscription.OfferID == "" {
		out.Subscription.OfferID, out.Subscription.PlanID = out.OfferID, out.PlanID
	}
	if out.Subscription.Quantity == 0 {
		out.Subscription.Quantity = int(out.Quantity)
	}
	if out.Subscription.Name == "" {
		out.Subscription.Name = out.SubscriptionName
	}
	if out.Subscription.ID == "" {
		return Resolved{}, errors.New("resolve: the answer names no subscription")
	}
	return out, nil
}

// Activate activates a subscription on its purchased plan. It is
// idempotent: a 400 because the subscription is already Subscribed counts
// as success.
func (c *Client) Activate(ctx context.Context, subID, planID string, quantity int, perSeat bool) error {
	body := map[string]any{"planId": planID}
	if perSeat && quantity > 0 {
		body["quantity"] = quantity
	}
	_, err := c.do(ctx, http.MethodPost, c.cfg.APIURL, "/saas/subscriptions/"+url.PathEscape(subID)+"/activate", nil, body, nil)
	if err == nil || StatusOf(err) != http.StatusBadRequest {
		return err
	}
	s, gerr := c.Get(ctx, subID)
	if gerr == nil && s.Status == StatusSubscribed {
		return nil
	}
	return err
}

// Get reads one subscription.
func (c *Client) Get(ctx context.Context, subID string) (Subscription, error) {
	r, err := c.do(ctx, http.MethodGet, c.cfg.APIURL, "/saas/subscriptions/"+url.PathEscape(subID), nil, nil, nil)
	if err != nil {
		return Subscription{}, err
	}
	var s Subscription
	if err := json.Unmarshal(r.body, &s); err != nil {
		return Subscription{}, fmt.Errorf("get subscription: unreadable answer: %w", err)
	}
	return s, nil
}

// GetRaw reads one subscription as Microsoft sends it (the portal's Raw view).
func (c *Client) GetRaw(ctx context.Context, subID string) (json.RawMessage, error) {
	r, err := c.do(ctx, http.MethodGet, c.cfg.APIURL, "/saas/subscriptions/"+url.PathEscape(subID), nil, nil, nil)
	if err != nil {
		return nil, err
	}
	if !json.Valid(r.body) {
		return nil, errors.New("get subscription: the answer is not JSON")
	}
	return json.RawMessage(r.body), nil
}

// List calls fn with every page of the publisher's subscriptions. The next
// page is asked of the configured base URL with the continuation token from
// @nextLink; a token seen before ends the walk.
func (c *Client) List(ctx context.Context, fn func([]Subscription) error) error {
	seen := map[string]bool{}
	query := url.Values{}
	for {
		r, err := c.do(ctx, http.MethodGet, c.cfg.APIURL, "/saas/subscriptions", query, nil, nil)
		if err != nil {
			return err
		}
		var page struct {
			Subscriptions []Subscription `json:"subscriptions"`
			NextLink      string         `json:"@nextLink"`
		}
		if len(bytes.TrimSpace(r.body)) > 0 {
			if err := json.Unmarshal(r.body, &page); err != nil {
				return fmt.Errorf("list subscriptions: unreadable page: %w", err)
			}
		}
		if err := fn(page.Subscriptions); err != nil {
			return err
		}
		token := continuationToken(page.NextLink)
		if token == "" || seen[token] {
			return nil
		}
		seen[token] = true
		query = url.Values{"continuationToken": {token}}
	}
}

func continuationToken(link string) string {
	if link == "" {
		return ""
	}
	u, err := url.Parse(link)
	if err != nil {
		return ""
	}
	return u.Query().Get("continuationToken")
}

// ListAvailablePlans returns the plans the beneficiary may switch to,
// the current one included. An unknown subscription gives none (empty
// body, [] or 404, depending on who answers).
func (c *Client) ListAvailablePlans(ctx context.Context, subID string) ([]AvailablePlan, error) {
	r, err := c.do(ctx, http.MethodGet, c.cfg.APIURL, "/saas/subscriptions/"+url.PathEscape(subID)+"/listAvailablePlans", nil, nil, nil)
	if StatusOf(err) == http.StatusNotFound {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	body := bytes.TrimSpace(r.body)
	if len(body) == 0 || body[0] == '[' {
		return nil, nil
	}
	var out struct {
		Plans []AvailablePlan `json:"plans"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		return nil, fmt.Errorf("list plans: unreadable answer: %w", err)
	}
	return out.Plans, nil
}

// ChangePlan asks for a plan change; the answer is the operation to follow.
func (c *Client) ChangePlan(ctx context.Context, subID, planID string) (string, error) {
	return c.startOperation(ctx, http.MethodPatch, subID, map[string]any{"planId": planID})
}

// ChangeQuantity asks for a seat-count change.
func (c *Client) ChangeQuantity(ctx context.Context, subID string, quantity int) (string, error) {
	return c.startOperation(ctx, http.MethodPatch, subID, map[string]any{"quantity": quantity})
}

// Unsubscribe cancels a subscription.
func (c *Client) Unsubscribe(ctx context.Context, subID string) (string, error) {
	return c.startOperation(ctx, http.MethodDelete, subID, nil)
}

func (c *Client) startOperation(ctx context.Context, method, subID string, body any) (string, error) {
	r, err := c.do(ctx, method, c.cfg.APIURL, "/saas/subscriptions/"+url.PathEscape(subID), nil, body, nil)
	if err != nil {
		var ae *APIError
		if errors.As(err, &ae) && (ae.Status == http.StatusConflict ||
			(ae.Status == http.StatusBadRequest && strings.Contains(strings.ToLower(ae.Body), "locked"))) {
			return "", fmt.Errorf("%w: %v", ErrOperationInProgress, err)
		}
		return "", err
	}
	// Take the operation id from the path; never follow the header's host.
	op := operationID(r.header.Get("Operation-Location"))
	if op == "" {
		op = strings.TrimSpace(r.header.Get("Operation-Id"))
	}
	if op == "" {
		return "", errors.New("the marketplace accepted the request but named no operation")
	}
	return op, nil
}

func operationID(loc string) string {
	u, err := url.Parse(loc)
	if err != nil {
		return ""
	}
	parts := strings.Split(strings.Trim(u.Path, "/"), "/")
	for i := 0; i+1 < len(parts); i++ {
		if parts[i] == "operations" {
			return parts[i+1]
		}
	}
	return ""
}

// GetOperation reads one operation.
func (c *Client) GetOperation(ctx context.Context, subID, opID string) (Operation, error) {
	r, err := c.do(ctx, http.MethodGet, c.cfg.APIURL, "/saas/subscriptions/"+url.PathEscape(subID)+"/operations/"+url.PathEscape(opID), nil, nil, nil)
	if err != nil {
		return Operation{}, err
	}
	var op Operation
	if err := json.Unmarshal(r.body, &op); err != nil {
		return Operation{}, fmt.Errorf("get operation: unreadable answer: %w", err)
	}
	return op, nil
}

// UpdateOperation accepts (success) or rejects a customer's change. An
// operation already finalized (409) counts as done.
func (c *Client) UpdateOperation(ctx context.Context, subID, opID string, success bool) error {
	status := "Failure"
	if success {
		status = "Success"
	}
	_, err := c.do(ctx, http.MethodPatch, c.cfg.APIURL, "/saas/subscriptions/"+url.PathEscape(subID)+"/operations/"+url.PathEscape(opID),
		nil, map[string]any{"status": status}, nil)
	if StatusOf(err) == http.StatusConflict {
		return nil
	}
	return err
}

// ListOperations returns a subscription's outstanding operations (an
// object, a bare array or an empty body, depending on who answers).
func (c *Client) ListOperations(ctx context.Context, subID string) ([]Operation, error) {
	r, err := c.do(ctx, http.MethodGet, c.cfg.APIURL, "/saas/subscriptions/"+url.PathEscape(subID)+"/operations", nil, nil, nil)
	if err != nil {
		return nil, err
	}
	body := bytes.TrimSpace(r.body)
	var ops []Operation
	switch {
	case len(body) == 0:
	case body[0] == '[':
		err = json.Unmarshal(body, &ops)
	default:
		var v struct {
			Operations []Operation `json:"operations"`
		}
		err = json.Unmarshal(body, &v)
		ops = v.Operations
	}
	return ops, err
}
