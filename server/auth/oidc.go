package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/marketgate/marketgate/store"
)

// SSO is single sign-on for seller staff with the company's identity
// provider over OpenID Connect (Entra ID, Okta, Google Workspace, any
// issuer with discovery), through github.com/coreos/go-oidc: the
// authorization code flow with PKCE, a nonce, and an ID token whose
// signature, issuer, audience and expiry are verified.
type SSO struct {
	Issuer       string
	ClientID     string
	ClientSecret string
	RedirectURL  string   // BASE/auth/sso/callback
	Scopes       []string // besides openid (default: email, profile)
	// RoleClaim is the ID token claim that lists the user's groups or roles
	// ("groups" for Okta and Entra group ids, "roles" for Entra app roles).
	RoleClaim string
	// RoleMap maps a value of RoleClaim to a Marketgate role; "*" maps
	// everyone the provider signs in. The highest role wins.
	RoleMap map[string]string
	// Name is what the sign-in button says ("Sign in with NAME").
	Name string
	HTTP *http.Client // for discovery, keys and the code exchange (nil: default)

	mu       sync.Mutex
	provider *oidc.Provider
}

// ParseRoleMap reads "group=role,group2=role2" (roles: admin, operator, viewer).
func ParseRoleMap(s string) (map[string]string, error) {
	out := map[string]string{}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		i := strings.LastIndex(part, "=")
		if i <= 0 {
			return nil, fmt.Errorf("%q: write group=role", part)
		}
		group, role := strings.TrimSpace(part[:i]), strings.TrimSpace(part[i+1:])
		if !slices.Contains(staffRoles, role) {
			return nil, fmt.Errorf("%q: the role must be admin, operator or viewer", part)
		}
		out[group] = role
	}
	if len(out) == 0 {
		return nil, errors.New("map at least one group or role to a Marketgate role, e.g. marketgate-admins=admin")
	}
	return out, nil
}

// staffRoles, highest first.
var staffRoles = []string{store.RoleAdmin, store.RoleOperator, store.RoleViewer}

// MapRole is the highest role any of the user's groups maps to ("" when none).
func (s *SSO) MapRole(groups []string) string {
	best := len(staffRoles)
	consider := func(key string) {
		if r, ok := s.RoleMap[key]; ok {
			if i := slices.Index(staffRoles, r); i >= 0 && i < best {
				best = i
			}
		}
	}
	consider("*")
	for _, g := range groups {
		consider(g)
	}
	if best == len(staffRoles) {
		return ""
	}
	return staffRoles[best]
}

func (s *SSO) ctx(ctx context.Context) context.Context {
	if s.HTTP != nil {
		return oidc.ClientContext(ctx, s.HTTP)
	}
	return ctx
}

// Provider discovers the issuer once (on first use, so an identity
// provider that is down does not stop the portal from starting).
func (s *SSO) Provider(ctx context.Context) (*oidc.Provider, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.provider != nil {
		return s.provider, nil
	}
	p, err := oidc.NewProvider(s.ctx(ctx), s.Issuer)
	if err != nil {
		return nil, fmt.Errorf("OIDC discovery of %s: %w", s.Issuer, err)
	}
	s.provider = p
	return p, nil
}

func (s *SSO) oauth(p *oidc.Provider) *oauth2.Config {
	scopes := []string{oidc.ScopeOpenID}
	if len(s.Scopes) == 0 {
		scopes = append(scopes, "email", "profile")
	} else {
		scopes = append(scopes, s.Scopes...)
	}
	return &oauth2.Config{ClientID: s.ClientID, ClientSecret: s.ClientSecret, RedirectURL: s.RedirectURL,
		Endpoint: p.Endpoint(), Scopes: scopes}
}

// AuthURL is where the browser goes to sign in.
func (s *SSO) AuthURL(ctx context.Context, state, nonce, verifier string) (string, error) {
	p, err := s.Provider(ctx)
	if err != nil {
		return "", err
	}
	return s.oauth(p).AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)), nil
}

// Identity is who the provider signed in.
type Identity struct {
	Subject       string // issuer|sub: unique across providers
	Email         string
	EmailVerified bool
	Name          string
	Groups        []string
}

// ErrSSORefused wraps a sign-in the provider or its token does not support.
var ErrSSORefused = errors.New("single sign-on refused")

// Exchange swaps the code for tokens and verifies the ID token (signature,
// issuer, audience, expiry, nonce).
func (s *SSO) Exchange(ctx context.Context, code, verifier, nonce string) (*Identity, error) {
	p, err := s.Provider(ctx)
	if err != nil {
		return nil, err
	}
	tok, err := s.oauth(p).Exchange(s.ctx(ctx), code, oauth2.VerifierOption(verifier))
	if err != nil {
		return nil, fmt.Errorf("%w: code exchange: %v", ErrSSORefused, err)
	}
	raw, ok := tok.Extra("id_token").(string)
	if !ok || raw == "" {
		return nil, fmt.Errorf("%w: the token answer has no id_token", ErrSSORefused)
	}
	idt, err := p.Verifier(&oidc.Config{ClientID: s.ClientID}).Verify(s.ctx(ctx), raw)
	if err != nil {
		return nil, fmt.Errorf("%w: ID token: %v", ErrSSORefused, err)
	}
	if idt.Nonce == "" || idt.Nonce != nonce {
		return nil, fmt.Errorf("%w: ID token nonce does not match", ErrSSORefused)
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		return nil, fmt.Errorf("%w: ID token claims: %v", ErrSSORefused, err)
	}
	who := &Identity{Subject: idt.Issuer + "|" + idt.Subject}
	who.Email, _ = claims["email"].(string)
	if who.Email == "" { // Entra puts a sign-in name here when there is no email claim
		who.Email, _ = claims["preferred_username"].(string)
	}
	switch v := claims["email_verified"].(type) {
	case bool:
		who.EmailVerified = v
	case string:
		who.EmailVerified = v == "true"
	}
	who.Name, _ = claims["name"].(string)
	who.Groups = stringList(claims[s.RoleClaim])
	return who, nil
}

// stringList reads a claim that is a list of strings or one string.
func stringList(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		var out []string
		for _, e := range x {
			switch e := e.(type) {
			case string:
				out = append(out, e)
			case json.Number:
				out = append(out, e.String())
			}
		}
		return out
	}
	return nil
}
