package sandbox_test

import (
	"golang.org/x/crypto/bcrypt"

	"github.com/marketgate/marketgate/server/auth"
)

// bcrypt at its lowest cost: the tests sign in and make users far more
// often than people do, and under the race detector a hash at the default
// cost takes 0.7 s of CPU. What is tested does not depend on the cost.
func init() { auth.SetPasswordCost(bcrypt.MinCost) }
