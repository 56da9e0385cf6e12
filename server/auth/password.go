// Package auth holds sign-in: password hashing, database-backed sessions
// for gorilla/sessions, and sign-in rate limits.
package auth

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"
)

// MinPasswordLength is the shortest password accepted.
const MinPasswordLength = 10

// bcrypt only reads the first 72 bytes.
const maxPasswordBytes = 72

// HashPassword hashes a password with bcrypt.
func HashPassword(pw string) (string, error) {
	if err := CheckPasswordRules(pw); err != nil {
		return "", err
	}
	h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.DefaultCost)
	return string(h), err
}

// CheckPasswordRules says what is wrong with a new password.
func CheckPasswordRules(pw string) error {
	if utf8.RuneCountInString(pw) < MinPasswordLength {
		return fmt.Errorf("password must have at least %d characters", MinPasswordLength)
	}
	if len(pw) > maxPasswordBytes {
		return fmt.Errorf("password must be at most %d bytes", maxPasswordBytes)
	}
	return nil
}

// dummyHash keeps sign-in for unknown accounts as slow as for known ones.
var dummyHash, _ = bcrypt.GenerateFromPassword([]byte("marketgate-dummy-password"), bcrypt.DefaultCost)

// VerifyPassword reports whether pw matches hash. An empty hash (no
// password set) never matches but costs the same time.
func VerifyPassword(hash, pw string) bool {
	if hash == "" {
		_ = bcrypt.CompareHashAndPassword(dummyHash, []byte(pw))
		return false
	}
	return bcrypt.CompareHashAndPassword([]byte(hash), []byte(pw)) == nil
}

// RandomToken returns n random bytes, URL-safe base64 encoded.
func RandomToken(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(errors.New("crypto/rand failed"))
	}
	return base64.RawURLEncoding.EncodeToString(b)
}
