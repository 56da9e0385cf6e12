package azuremp

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// DefaultGraphURL is Microsoft Graph's v1.0 endpoint.
const DefaultGraphURL = "https://graph.microsoft.com/v1.0"

// Graph reads what the buyer's sign-in lets Marketgate read from Microsoft
// Graph with the User.Read delegated permission the landing page asks for
// (and nothing more).
type Graph struct {
	URL  string       // "" = DefaultGraphURL
	HTTP *http.Client // nil = a client with a 10-second timeout
}

// OrganizationName is the signed-in user's organisation's display name:
// GET /organization answers "a list of organization objects. There's only
// one organization object in the collection"; its least privileged
// delegated permission is User.Read, which "can read only the id,
// displayName, and verifiedDomains properties"
// (learn.microsoft.com/graph/api/organization-list).
func (g Graph) OrganizationName(ctx context.Context, accessToken string) (string, error) {
	base := strings.TrimRight(g.URL, "/")
	if base == "" {
		base = DefaultGraphURL
	}
	hc := g.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/organization?$select=id,displayName", nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Authorization", "Bearer "+accessToken)
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return "", err
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("microsoft graph GET /organization: %d %.200s", resp.StatusCode, body)
	}
	var out struct {
		Value []struct {
			DisplayName string `json:"displayName"`
		} `json:"value"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		return "", fmt.Errorf("microsoft graph GET /organization: %w", err)
	}
	if len(out.Value) == 0 {
		return "", nil
	}
	return strings.TrimSpace(out.Value[0].DisplayName), nil
}
