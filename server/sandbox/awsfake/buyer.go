package awsfake

import (
	"crypto/rand"
	"fmt"
	"math/big"
	"strings"
)

// NewIdentity is what AWS Marketplace assigns a buyer who subscribes to a
// product, and what ResolveCustomer then answers for their token
// (reference §1, §3). A concurrent-agreements product (every SaaS product
// from 2026-06-01): the buyer's 12-digit account id and the agreement's
// license, no CustomerIdentifier. A legacy product: the CustomerIdentifier
// with the product code.
func NewIdentity(productCode string, concurrentAgreements bool) Identity {
	id := Identity{ProductCode: productCode}
	if concurrentAgreements {
		id.CustomerAWSAccountID = randomAccount()
		id.LicenseArn = "arn:aws:license-manager::" + id.CustomerAWSAccountID + ":license:l-" + newID()[:16]
		return id
	}
	id.CustomerIdentifier = "SBX" + strings.ToUpper(newID()[:8])
	return id
}

func randomAccount() string {
	n, _ := rand.Int(rand.Reader, big.NewInt(1e12))
	return fmt.Sprintf("%012d", n.Int64())
}
