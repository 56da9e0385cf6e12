package auth

import (
	"testing"

	"golang.org/x/crypto/bcrypt"
)

// The server hashes at bcrypt's default cost; a cost lowered for tests
// applies to new hashes only, and a hash made before still verifies.
func TestPasswordCost(t *testing.T) {
	const pw = "correct horse battery staple"
	before, err := HashPassword(pw)
	if err != nil {
		t.Fatal(err)
	}
	if c, _ := bcrypt.Cost([]byte(before)); c != bcrypt.DefaultCost {
		t.Fatalf("cost %d, want bcrypt's default %d", c, bcrypt.DefaultCost)
	}
	SetPasswordCost(bcrypt.MinCost)
	t.Cleanup(func() { SetPasswordCost(0) })
	after, err := HashPassword(pw)
	if err != nil {
		t.Fatal(err)
	}
	if c, _ := bcrypt.Cost([]byte(after)); c != bcrypt.MinCost {
		t.Fatalf("cost %d after SetPasswordCost(%d)", c, bcrypt.MinCost)
	}
	if !VerifyPassword(before, pw) || !VerifyPassword(after, pw) || VerifyPassword(before, pw+"!") {
		t.Fatal("a hash of either cost must verify its password, and only it")
	}
	if VerifyPassword("", pw) {
		t.Fatal("no password set must never match")
	}
}
