package auth

import (
	"slices"
	"strings"
)

// API keys authenticate the seller's application on /api/v1. Only their
// hash is stored (store.HashAPIKey); the key itself is shown once.

// APIKeyPrefix starts every key, so leaked keys are easy to recognise.
const APIKeyPrefix = "mgk_"

// NewAPIKey makes a new secret key; its first characters are its public prefix.
func NewAPIKey() (key, prefix string) {
	key = APIKeyPrefix + RandomToken(30)
	return key, key[:len(APIKeyPrefix)+8]
}

// APIKeyScopes are what the seller's app may call with a key. A key with no
// scopes (created before scopes existed, or by `apikey create` without
// --scopes) may call everything.
var APIKeyScopes = []string{"usage", "access", "seats", "read"}

// ParseScopes checks a list of scopes and joins the known ones (each once)
// with commas; false when one is unknown.
func ParseScopes(list []string) (string, bool) {
	var out []string
	for _, s := range list {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if !slices.Contains(APIKeyScopes, s) {
			return "", false
		}
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return strings.Join(out, ","), true
}
