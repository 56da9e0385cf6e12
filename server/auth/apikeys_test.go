package auth

import (
	"strings"
	"testing"
)

func TestNewAPIKeyHasItsPrefix(t *testing.T) {
	key, prefix := NewAPIKey()
	other, _ := NewAPIKey()
	if !strings.HasPrefix(key, APIKeyPrefix) || !strings.HasPrefix(key, prefix) || len(prefix) != len(APIKeyPrefix)+8 {
		t.Fatalf("key %q, prefix %q", key, prefix)
	}
	if key == other {
		t.Fatal("two keys are the same")
	}
}

func TestParseScopes(t *testing.T) {
	for _, tc := range []struct {
		in   []string
		want string
		ok   bool
	}{
		{[]string{"usage", " seats ", "usage", ""}, "usage,seats", true},
		{nil, "", true},
		{[]string{"usage", "billing"}, "", false},
	} {
		got, ok := ParseScopes(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("ParseScopes(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}
