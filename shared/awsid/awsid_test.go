package awsid_test

import (
	"testing"

	"github.com/trailwarden/trailwarden/shared/awsid"
)

func TestIsAccountID(t *testing.T) {
	for s, want := range map[string]bool{
		"123456789012": true, "000000000001": true,
		"": false, "12345678901": false, "1234567890123": false, "12345678901x": false,
		" 23456789012": false, "-23456789012": false, "１23456789012": false,
	} {
		if got := awsid.IsAccountID(s); got != want {
			t.Errorf("IsAccountID(%q) = %v, want %v", s, got, want)
		}
	}
}
