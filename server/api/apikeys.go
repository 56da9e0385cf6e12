package api

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/marketgate/marketgate/server/apperr"
	"github.com/marketgate/marketgate/store"
)

// API key scopes: what the seller's app may call with a key. A key with no
// scopes (created before scopes existed, or by `apikey create` without
// --scopes) may call everything.
var APIKeyScopes = []string{"usage", "access", "seats"}

// ParseScopes checks a list of scopes.
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

func (s *Server) listAPIKeys(c *gin.Context) {
	keys, err := s.Store.ListAPIKeys(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return
	}
	out := make([]apiKeyView, 0, len(keys))
	for i := range keys {
		out = append(out, viewAPIKey(&keys[i]))
	}
	c.JSON(http.StatusOK, gin.H{"items": out, "scopes": APIKeyScopes})
}

func (s *Server) createAPIKey(c *gin.Context) {
	var in struct {
		Name   string   `json:"name"`
		Scopes []string `json:"scopes"`
	}
	if !s.bindJSON(c, &in) {
		return
	}
	name := strings.TrimSpace(in.Name)
	if name == "" || len(name) > 200 {
		s.failCode(c, apperr.Invalid, "name is required (at most 200 characters)")
		return
	}
	scopes, ok := ParseScopes(in.Scopes)
	if !ok || scopes == "" {
		s.failCode(c, apperr.Invalid, "scopes: one or more of %s", strings.Join(APIKeyScopes, ", "))
		return
	}
	u := currentUser(c)
	key, prefix := NewAPIKey()
	k := &store.APIKey{Name: name, Prefix: prefix, Scopes: scopes, CreatedBy: &u.ID}
	if err := s.Store.CreateAPIKey(c.Request.Context(), k, key); err != nil {
		s.fail(c, err)
		return
	}
	s.audit(c, u, "apikey.create", "api_key", k.ID, nil, viewAPIKey(k))
	c.JSON(http.StatusCreated, gin.H{"key": key, "api_key": viewAPIKey(k)})
}

func (s *Server) revokeAPIKey(c *gin.Context) {
	id, err := strconv.ParseUint(c.Param("id"), 10, 32)
	if err != nil {
		s.failCode(c, apperr.Invalid, "id must be a number")
		return
	}
	now := s.Now()
	res := s.Store.W.WithContext(c.Request.Context()).Model(&store.APIKey{}).Where("id = ? AND revoked_at IS NULL", id).Update("revoked_at", now)
	if res.Error != nil {
		s.fail(c, res.Error)
		return
	}
	if res.RowsAffected == 0 {
		s.failCode(c, apperr.NotFound, "no active API key %d", id)
		return
	}
	s.audit(c, currentUser(c), "apikey.revoke", "api_key", uint(id), nil, nil)
	c.Status(http.StatusNoContent)
}
