package api

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/marketgate/marketgate/server/apperr"
	"github.com/marketgate/marketgate/server/auth"
	"github.com/marketgate/marketgate/store"
)

// API keys of the seller's application (admins): list, create (the key is
// shown once), revoke. Keys and their scopes are made in auth.

// scope refuses keys without the scope.
func (s *Server) scope(name string) gin.HandlerFunc {
	return func(c *gin.Context) {
		k, _ := c.Get(ctxAPIKey)
		if key, ok := k.(*store.APIKey); ok && key.Scopes != "" && !slices.Contains(strings.Split(key.Scopes, ","), name) {
			s.failCode(c, apperr.Forbidden, "this API key may not call %s (its scopes: %s)", name, key.Scopes)
			return
		}
		c.Next()
	}
}

type apiKeyView struct {
	ID         uint       `json:"id"`
	Name       string     `json:"name"`
	Prefix     string     `json:"prefix"`
	Scopes     []string   `json:"scopes"`
	LastUsedAt *time.Time `json:"last_used_at"`
	RevokedAt  *time.Time `json:"revoked_at"`
	CreatedAt  time.Time  `json:"created_at"`
}

func viewAPIKey(k *store.APIKey) apiKeyView {
	scopes := []string{}
	if k.Scopes != "" {
		scopes = strings.Split(k.Scopes, ",")
	}
	return apiKeyView{k.ID, k.Name, k.Prefix, scopes, k.LastUsedAt, k.RevokedAt, k.CreatedAt}
}

// apiKeyList is the keys (newest first) and the scopes a key may have.
type apiKeyList struct {
	Items  []apiKeyView `json:"items"`
	Scopes []string     `json:"scopes"`
}

func (s *Server) listAPIKeys(c *gin.Context) (apiKeyList, error) {
	keys, err := s.Store.ListAPIKeys(c.Request.Context())
	if err != nil {
		return apiKeyList{}, err
	}
	out := make([]apiKeyView, 0, len(keys))
	for i := range keys {
		out = append(out, viewAPIKey(&keys[i]))
	}
	return apiKeyList{Items: out, Scopes: auth.APIKeyScopes}, nil
}

// apiKeyInput is a new key: what it is for and what it may call.
type apiKeyInput struct {
	Name   string   `json:"name"`
	Scopes []string `json:"scopes"`
}

// apiKeyCreated is a new key, shown this once, and its record.
type apiKeyCreated struct {
	Key    string     `json:"key"`
	APIKey apiKeyView `json:"api_key"`
}

func (s *Server) createAPIKey(c *gin.Context, in apiKeyInput) (apiKeyCreated, error) {
	name := strings.TrimSpace(in.Name)
	if name == "" || len(name) > 200 {
		return apiKeyCreated{}, apperr.New(apperr.Invalid, "name is required (at most 200 characters)")
	}
	scopes, ok := auth.ParseScopes(in.Scopes)
	if !ok || scopes == "" {
		return apiKeyCreated{}, apperr.New(apperr.Invalid, "scopes: one or more of %s", strings.Join(auth.APIKeyScopes, ", "))
	}
	u := currentUser(c)
	key, prefix := auth.NewAPIKey()
	k := &store.APIKey{Name: name, Prefix: prefix, Scopes: scopes, CreatedBy: &u.ID}
	if err := s.Store.CreateAPIKey(c.Request.Context(), k, key); err != nil {
		return apiKeyCreated{}, err
	}
	s.audit(c, u, "apikey.create", "api_key", k.ID, nil, viewAPIKey(k))
	return apiKeyCreated{Key: key, APIKey: viewAPIKey(k)}, nil
}

func (s *Server) revokeAPIKey(c *gin.Context) (NoContent, error) {
	id, err := strconv.ParseUint(c.Param("id"), 10, 32)
	if err != nil {
		return NoContent{}, apperr.New(apperr.Invalid, "id must be a number")
	}
	revoked, err := s.Store.RevokeAPIKey(c.Request.Context(), uint(id), s.Now())
	if err != nil {
		return NoContent{}, err
	}
	if !revoked {
		return NoContent{}, apperr.New(apperr.NotFound, "no active API key %d", id)
	}
	s.audit(c, currentUser(c), "apikey.revoke", "api_key", uint(id), nil, nil)
	return NoContent{}, nil
}
