package auth

import (
	"bytes"
	"crypto/rand"
	"crypto/subtle"
	"image/png"
	"net/url"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/marketgate/marketgate/store"
)

// TOTP (RFC 6238) with github.com/pquerna/otp: SHA-1, 6 digits, 30-second
// steps — what every authenticator app reads from an otpauth:// URI.
const (
	totpPeriod = 30
	totpSkew   = 1 // one step either side: clocks drift, people type slowly
)

var totpOpts = totp.ValidateOpts{Period: totpPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

// NewTOTPKey makes a new secret for an account; issuer names the portal in
// the authenticator app.
func NewTOTPKey(issuer, account string) (*otp.Key, error) {
	return totp.Generate(totp.GenerateOpts{Issuer: issuer, AccountName: account, Period: totpPeriod,
		Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1, SecretSize: 20})
}

// TOTPKeyURI is the otpauth:// URI of a secret (for the app, or a QR
// code), in the Key Uri Format authenticator apps read.
func TOTPKeyURI(issuer, account, secret string) string {
	v := url.Values{}
	v.Set("secret", secret)
	v.Set("issuer", issuer)
	v.Set("algorithm", "SHA1")
	v.Set("digits", "6")
	v.Set("period", "30")
	u := url.URL{Scheme: "otpauth", Host: "totp", Path: "/" + issuer + ":" + account, RawQuery: v.Encode()}
	return u.String()
}

// TOTPQRCode is a PNG of the URI's QR code.
func TOTPQRCode(uri string) ([]byte, error) {
	k, err := otp.NewKeyFromURL(uri)
	if err != nil {
		return nil, err
	}
	img, err := k.Image(240, 240)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// CheckTOTP says whether code is valid for secret at now, and for which
// time step (the caller stores it so the same code cannot be used twice).
func CheckTOTP(secret, code string, now time.Time) (int64, bool) {
	code = strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return -1
		}
		return r
	}, code)
	if len(code) != 6 || secret == "" {
		return 0, false
	}
	step := now.Unix() / totpPeriod
	for d := int64(-totpSkew); d <= totpSkew; d++ {
		want, err := totp.GenerateCodeCustom(secret, time.Unix((step+d)*totpPeriod, 0), totpOpts)
		if err == nil && subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			return step + d, true
		}
	}
	return 0, false
}

// TOTPCode is the code for secret at t (tests and the sandbox).
func TOTPCode(secret string, t time.Time) string {
	c, _ := totp.GenerateCodeCustom(secret, t, totpOpts)
	return c
}

// RecoveryCodeCount is how many recovery codes a user gets.
const RecoveryCodeCount = 10

// NewRecoveryCodes returns codes to show once and their hashes to store.
// Each carries 50 random bits, written as xxxxx-xxxxx in an alphabet
// without look-alikes.
func NewRecoveryCodes() (codes, hashes []string) {
	const alphabet = "abcdefghjkmnpqrstuvwxyz23456789" // 31 symbols
	for range RecoveryCodeCount {
		raw := make([]byte, 10)
		if _, err := rand.Read(raw); err != nil {
			panic("crypto/rand failed")
		}
		var b strings.Builder
		for i := 0; i < 10; i++ {
			if i == 5 {
				b.WriteByte('-')
			}
			b.WriteByte(alphabet[int(raw[i])%len(alphabet)])
		}
		codes = append(codes, b.String())
		hashes = append(hashes, HashRecoveryCode(b.String()))
	}
	return codes, hashes
}

// HashRecoveryCode normalises a typed code (case, spaces, dash) and hashes it.
func HashRecoveryCode(code string) string {
	code = strings.ToLower(strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return -1
		}
		return r
	}, code))
	return store.HashToken("recovery:" + code)
}
