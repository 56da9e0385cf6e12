// Package auth holds sign-in: password hashing, database-backed sessions
// for gorilla/sessions, and sign-in rate limits.
package auth

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	zxcvbn "github.com/ccojocar/zxcvbn-go"
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
	h, err := bcrypt.GenerateFromPassword([]byte(pw), hashCost())
	return string(h), err
}

// passwordCost is bcrypt's cost for the hashes made from now on; 0 is
// bcrypt.DefaultCost.
var passwordCost atomic.Int32

// SetPasswordCost sets bcrypt's cost for the hashes made from now on (a
// hash keeps the cost it was made with, so older ones still verify). For
// tests only: they lower it to bcrypt.MinCost, because under the race
// detector one hash or check at the default cost takes 0.7 s of CPU
// (0.06 s without it). The server always uses bcrypt.DefaultCost.
func SetPasswordCost(cost int) {
	passwordCost.Store(int32(cost))
}

func hashCost() int {
	if c := passwordCost.Load(); c != 0 {
		return int(c)
	}
	return bcrypt.DefaultCost
}

// minGuessBits is the least estimated strength (log2 of the guesses
// zxcvbn needs) of a new password. Below it are the passwords of the
// breached-password frequency lists zxcvbn embeds and their common
// manglings ("password123", "Summer2024!", "qwertyuiop", "aaaaaaaaaa"),
// all under 2^16 guesses; a length-only rule let them through.
const minGuessBits = 16

// CheckPasswordRules says what is wrong with a new password: too short or
// long, control characters, or common (in or near the breached-password
// lists of github.com/ccojocar/zxcvbn-go, a maintained zxcvbn port).
// userInputs (the e-mail, the name) count as known to an attacker.
func CheckPasswordRules(pw string, userInputs ...string) error {
	if utf8.RuneCountInString(pw) < MinPasswordLength {
		return fmt.Errorf("password must have at least %d characters", MinPasswordLength)
	}
	if len(pw) > maxPasswordBytes {
		return fmt.Errorf("password must be at most %d bytes", maxPasswordBytes)
	}
	if !utf8.ValidString(pw) || HasControl(pw) {
		return errors.New("password must not contain control characters")
	}
	inputs := append([]string{"marketgate"}, userInputs...)
	if m := zxcvbn.PasswordStrength(pw, inputs); m.Entropy < minGuessBits {
		return errors.New("password is too common or too easy to guess; use a longer phrase of unrelated words")
	}
	return nil
}

// HasControl reports control characters (C0, DEL, C1), which have no
// place in a password or in anything a person types as a name.
func HasControl(s string) bool {
	for _, r := range s {
		if r < 0x20 || (r >= 0x7f && r < 0xa0) {
			return true
		}
	}
	return false
}

// dummyHash keeps sign-in for unknown accounts as slow as for known ones
// (made on first use, at the cost of the hashes made then).
var dummyHash = sync.OnceValue(func() []byte {
	h, _ := bcrypt.GenerateFromPassword([]byte("marketgate-dummy-password"), hashCost())
	return h
})

// VerifyPassword reports whether pw matches hash. An empty hash (no
// password set) never matches but costs the same time.
func VerifyPassword(hash, pw string) bool {
	if hash == "" {
		_ = bcrypt.CompareHashAndPassword(dummyHash(), []byte(pw))
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
