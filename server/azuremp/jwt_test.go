package azuremp_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/marketgate/marketgate/server/azuremp"
	"github.com/marketgate/marketgate/server/sandbox/azurefake"
)

const (
	jwtTenant = "6e3f4f2a-1111-4222-8333-944455556666"
	jwtClient = "0a1b2c3d-aaaa-4bbb-8ccc-ddddeeeeffff"
)

func startEntra(t *testing.T) (*azurefake.Entra, *httptest.Server) {
	t.Helper()
	esrv := httptest.NewUnstartedServer(nil)
	esrv.StartTLS()
	t.Cleanup(esrv.Close)
	entra := azurefake.NewEntra(esrv.URL, nil)
	esrv.Config.Handler = entra
	return entra, esrv
}

func kidOf(t *testing.T, token string) string {
	t.Helper()
	h, _ := base64.RawURLEncoding.DecodeString(strings.Split(token, ".")[0])
	var v struct{ Kid string }
	if err := json.Unmarshal(h, &v); err != nil || v.Kid == "" {
		t.Fatalf("no kid in %s", h)
	}
	return v.Kid
}

func with(base map[string]any, over map[string]any) map[string]any {
	c := map[string]any{}
	for k, v := range base {
		c[k] = v
	}
	for k, v := range over {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	return c
}

// signOther signs claims with a method and key Entra never published, under kid.
func signOther(t *testing.T, m jwt.SigningMethod, key any, kid string, c map[string]any) string {
	t.Helper()
	tok := jwt.NewWithClaims(m, jwt.MapClaims(c))
	tok.Header["kid"] = kid
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestIDTokenRefusals: the sign-in's id_token goes through go-oidc; each
// case is a token that must be refused, and the good one is accepted.
func TestIDTokenRefusals(t *testing.T) {
	entra, esrv := startEntra(t)
	v := azuremp.NewIDTokenVerifier(jwtClient, esrv.URL, esrv.Client())
	now := time.Now()
	buyerTenant := azuremp.NewGUID()
	good := map[string]any{"iss": entra.Issuer(buyerTenant), "aud": jwtClient, "tid": buyerTenant, "oid": "o-1", "name": "Ada",
		"preferred_username": "Ada@Contoso.example", "nonce": "n-1", "iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix()}
	goodTok := entra.Sign(good)
	kid := kidOf(t, goodTok)
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	parts := strings.Split(goodTok, ".")
	cases := map[string]string{
		"wrong audience":            entra.Sign(with(good, map[string]any{"aud": "someone-else"})),
		"issuer of another tenant":  entra.Sign(with(good, map[string]any{"iss": entra.Issuer(azuremp.NewGUID())})),
		"issuer of another host":    entra.Sign(with(good, map[string]any{"iss": "https://evil.example/" + buyerTenant + "/v2.0"})),
		"no tenant":                 entra.Sign(with(good, map[string]any{"tid": nil})),
		"expired":                   entra.Sign(with(good, map[string]any{"exp": now.Add(-10 * time.Minute).Unix(), "nbf": now.Add(-time.Hour).Unix()})),
		"no expiry":                 entra.Sign(with(good, map[string]any{"exp": nil})),
		"not yet valid":             entra.Sign(with(good, map[string]any{"nbf": now.Add(time.Hour).Unix()})),
		"no nbf":                    entra.Sign(with(good, map[string]any{"nbf": nil})),
		"issued in the future":      entra.Sign(with(good, map[string]any{"iat": now.Add(time.Hour).Unix()})),
		"alg none":                  base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT","kid":"`+kid+`"}`)) + "." + parts[1] + ".",
		"HS256 with the public key": signOther(t, jwt.SigningMethodHS256, []byte(base64.RawURLEncoding.EncodeToString(other.N.Bytes())), kid, good),
		"forged under Entra's kid":  signOther(t, jwt.SigningMethodRS256, other, kid, good),
		"other signature":           parts[0] + "." + parts[1] + "." + base64.RawURLEncoding.EncodeToString(make([]byte, 256)),
		"garbage":                   "not.a.jwt",
	}
	for name, tok := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := v.Verify(context.Background(), tok, "n-1"); !errors.Is(err, azuremp.ErrUnauthenticated) {
				t.Fatalf("accepted or wrong error: %v", err)
			}
		})
	}
	if _, err := v.Verify(context.Background(), goodTok, "n-2"); !errors.Is(err, azuremp.ErrUnauthenticated) {
		t.Fatalf("another sign-in's nonce: %v", err)
	}
	if _, err := v.Verify(context.Background(), goodTok, ""); !errors.Is(err, azuremp.ErrUnauthenticated) {
		t.Fatalf("no nonce: %v", err)
	}
	id, err := v.Verify(context.Background(), goodTok, "n-1")
	if err != nil || id.TenantID != buyerTenant || id.ObjectID != "o-1" || id.Email != "ada@contoso.example" || id.Name != "Ada" {
		t.Fatalf("good token: %+v %v", id, err)
	}
}

// TestKeyRotationAndRefreshLimit: an unknown key id fetches Entra's keys
// again (a rotation needs no restart), but at most once per MinRefresh, so
// forged tokens cannot turn every request into a call to Entra.
func TestKeyRotationAndRefreshLimit(t *testing.T) {
	entra, esrv := startEntra(t)
	v := azuremp.NewNotificationVerifier(jwtTenant, jwtClient, esrv.URL, esrv.Client())
	v.Keys.MinRefresh = time.Hour
	ctx := context.Background()
	if err := v.Verify(ctx, "Bearer "+entra.WebhookToken(jwtTenant, jwtClient)); err != nil {
		t.Fatal(err)
	}
	if n := entra.Calls("keys"); n != 1 {
		t.Fatalf("keys fetched %d times, want 1", n)
	}
	for i := 0; i < 20; i++ { // cached: no more fetches
		if err := v.Verify(ctx, "Bearer "+entra.WebhookToken(jwtTenant, jwtClient)); err != nil {
			t.Fatal(err)
		}
	}
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	good := entra.WebhookToken(jwtTenant, jwtClient)
	_, claimsPart, _ := strings.Cut(good, ".")
	var c map[string]any
	raw, _ := base64.RawURLEncoding.DecodeString(strings.Split(claimsPart, ".")[0])
	_ = json.Unmarshal(raw, &c)
	for i := 0; i < 10; i++ {
		for _, kid := range []string{"made-up-" + string(rune('a'+i)), kidOf(t, good)} {
			if err := v.Verify(ctx, "Bearer "+signOther(t, jwt.SigningMethodRS256, other, kid, c)); !errors.Is(err, azuremp.ErrUnauthenticated) {
				t.Fatalf("forged token under kid %q: %v", kid, err)
			}
		}
	}
	if n := entra.Calls("keys"); n != 1 {
		t.Fatalf("forged tokens fetched the keys: %d fetches, want still 1 within MinRefresh", n)
	}
	// Entra rotates its key: within MinRefresh the new kid is not fetched yet…
	entra.RotateKey()
	if err := v.Verify(ctx, "Bearer "+entra.WebhookToken(jwtTenant, jwtClient)); !errors.Is(err, azuremp.ErrUnauthenticated) {
		t.Fatalf("a new key within MinRefresh: %v", err)
	}
	// …after it, the unknown kid fetches the keys once and is accepted.
	v.Keys.MinRefresh = time.Millisecond
	time.Sleep(5 * time.Millisecond)
	if err := v.Verify(ctx, "Bearer "+entra.WebhookToken(jwtTenant, jwtClient)); err != nil {
		t.Fatalf("after a key rotation: %v", err)
	}
	if n := entra.Calls("keys"); n != 2 {
		t.Fatalf("keys fetched %d times, want 2", n)
	}
}
