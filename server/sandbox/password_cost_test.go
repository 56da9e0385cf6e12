package sandbox_test

import (
	"golang.org/x/crypto/bcrypt"

	"github.com/marketgate/marketgate/server/auth"
)

// bcrypt at its lowest cost in these tests (see auth.SetPasswordCost).
func init() { auth.SetPasswordCost(bcrypt.MinCost) }
