// Package awsid recognises AWS identifiers in the form AWS documents them.
// It is pure (no AWS calls) and used by every parser that reads an account
// id from untrusted input: Organizations events, object keys, work items,
// the ledger's journal.
package awsid

// IsAccountID reports whether s is an AWS account id: exactly 12 decimal
// digits, leading zeros included ("Your AWS account ID", AWS Account
// Management Reference Guide).
func IsAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
