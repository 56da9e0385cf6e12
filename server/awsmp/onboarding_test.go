package awsmp_test

import (
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/marketgate/marketgate/server/awsmp"
)

// TestCheckOnboarding: the onboarding form's rules, in the order the buyer
// is told about them; what they typed is kept (trimmed, the address
// normalised) to show the form again.
func TestCheckOnboarding(t *testing.T) {
	const good = "correct horse battery staple"
	for _, c := range []struct {
		name, company, person, email, password string
		problem                                string // "" accepted; else a prefix of the message
	}{
		{"accepted", "  Acme Corp ", " Ada ", " Ada@Acme.TEST ", good, ""},
		{"no company", " ", "Ada", "ada@acme.test", good, "Please fill in your company and your name."},
		{"no name", "Acme", "", "ada@acme.test", good, "Please fill in your company and your name."},
		{"company too long", strings.Repeat("a", 201), "Ada", "ada@acme.test", good, "Company and name must be at most 200 characters."},
		{"name too long", "Acme", strings.Repeat("a", 201), "ada@acme.test", good, "Company and name must be at most 200 characters."},
		{"control character", "Acme\x07", "Ada", "ada@acme.test", good, "Company and name must not contain control characters."},
		{"no @", "Acme", "Ada", "ada.acme.test", good, "Please enter a valid e-mail address."},
		{"address too long", "Acme", "Ada", strings.Repeat("a", 311) + "@acme.test", good, "Please enter a valid e-mail address."},
		{"short password", "Acme", "Ada", "ada@acme.test", "short", "Your password: password must have at least"},
		{"common password", "Acme", "Ada", "ada@acme.test", "password123", "Your password: "},
	} {
		t.Run(c.name, func(t *testing.T) {
			o, problem := awsmp.CheckOnboarding(c.company, c.person, c.email, c.password)
			if c.problem == "" {
				if problem != "" {
					t.Fatalf("refused: %s", problem)
				}
				if o.Company != "Acme Corp" || o.Name != "Ada" || o.Email != "ada@acme.test" {
					t.Fatalf("kept %+v, want trimmed fields and a normalised address", o)
				}
				if bcrypt.CompareHashAndPassword([]byte(o.PasswordHash), []byte(c.password)) != nil {
					t.Fatal("the hash is not the password's")
				}
				return
			}
			if !strings.HasPrefix(problem, c.problem) || o.PasswordHash != "" {
				t.Fatalf("problem %q (hash %q), want %q…", problem, o.PasswordHash, c.problem)
			}
			if o.Company != strings.TrimSpace(c.company) {
				t.Fatalf("company shown again as %q", o.Company)
			}
		})
	}
}
