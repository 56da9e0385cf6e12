// Package apperr is the one error type the API returns to clients: a stable
// code, a message meant for people, and an HTTP status. Anything else is an
// internal error; its text is logged with the request id and never shown.
package apperr

import (
	"errors"
	"fmt"
	"net/http"
)

// Codes.
const (
	Invalid            = "invalid_input"
	Unauthenticated    = "unauthenticated"
	InvalidCredentials = "invalid_credentials"
	Forbidden          = "forbidden"
	NotFound           = "not_found"
	MethodNotAllowed   = "method_not_allowed"
	Conflict           = "conflict"
	NoFreeSeat         = "no_free_seat"
	NotSeatBased       = "not_seat_based"
	ChangeNotAllowed   = "change_not_allowed"
	RateLimited        = "rate_limited"
	CrossOrigin        = "cross_origin_request"
	TooLarge           = "request_too_large"
	PeriodTooLong      = "period_too_long"
	Unavailable        = "unavailable"
	Upstream           = "marketplace_error"
	DeliveryFailed     = "delivery_failed"
	InvalidPermission  = "invalid_permission"  // an offer's permission list (scope, reason)
	ConsentUnavailable = "consent_unavailable" // admin consent cannot be asked for this subscription now
	Internal           = "internal"
	CustomerPortalOnly = "customer_portal_only" // a customer portal route called by seller staff
	// An offer's branding of the buyer pages (issue 17).
	BrandingText   = "branding_text_invalid"
	BrandingLogo   = "branding_logo_invalid"
	BrandingAccent = "branding_accent_invalid"
	BrandingEmail  = "branding_email_invalid"
	BrandingURL    = "branding_url_invalid"
	BrandingLinks  = "branding_links_invalid"
)

var statuses = map[string]int{
	Invalid:            http.StatusBadRequest,
	Unauthenticated:    http.StatusUnauthorized,
	InvalidCredentials: http.StatusUnauthorized,
	Forbidden:          http.StatusForbidden,
	NotFound:           http.StatusNotFound,
	MethodNotAllowed:   http.StatusMethodNotAllowed,
	Conflict:           http.StatusConflict,
	NoFreeSeat:         http.StatusConflict,
	NotSeatBased:       http.StatusConflict,
	ChangeNotAllowed:   http.StatusForbidden,
	RateLimited:        http.StatusTooManyRequests,
	CrossOrigin:        http.StatusForbidden,
	TooLarge:           http.StatusRequestEntityTooLarge,
	PeriodTooLong:      http.StatusBadRequest,
	Unavailable:        http.StatusServiceUnavailable,
	Upstream:           http.StatusBadGateway,
	DeliveryFailed:     http.StatusBadGateway,
	InvalidPermission:  http.StatusBadRequest,
	ConsentUnavailable: http.StatusConflict,
	Internal:           http.StatusInternalServerError,
	CustomerPortalOnly: http.StatusForbidden,
	BrandingText:       http.StatusBadRequest,
	BrandingLogo:       http.StatusBadRequest,
	BrandingAccent:     http.StatusBadRequest,
	BrandingEmail:      http.StatusBadRequest,
	BrandingURL:        http.StatusBadRequest,
	BrandingLinks:      http.StatusBadRequest,
}

// Error is an error meant for the client.
type Error struct {
	Code    string
	Message string
	// Fields: what is wrong with each field of a form (optional).
	Fields []FieldError
}

// FieldError is one invalid field of a form: the field's name as the
// client sent it, a stable code and a message for people.
type FieldError struct {
	Field   string `json:"field"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// New builds an Error.
func New(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Status maps a code to its HTTP status.
func Status(code string) int {
	if s, ok := statuses[code]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// From returns the client-facing error for err: the *Error it wraps, or
// an internal error with a fixed message.
func From(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Code: Internal, Message: "internal error"}
}
