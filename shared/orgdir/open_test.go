package orgdir_test

import (
	"context"
	"testing"

	"github.com/trailwarden/trailwarden/shared/orgdir"
)

// TestSingleAccount: single-account mode knows one account, under no OU,
// and refuses any other.
func TestSingleAccount(t *testing.T) {
	ctx := context.Background()
	var org orgdir.Org = orgdir.SingleAccount{ID: "111111111111"}
	a, err := org.Describe(ctx, "111111111111")
	if err != nil || !a.Active() || a.ID != "111111111111" {
		t.Errorf("Describe(own) = %+v, %v", a, err)
	}
	if _, err := org.Describe(ctx, "222222222222"); err == nil {
		t.Error("Describe(other) succeeded")
	}
	if p, err := org.Path(ctx, "111111111111"); err != nil || len(p) != 0 {
		t.Errorf("Path = %v, %v", p, err)
	}
	l, err := org.List(ctx)
	if err != nil || len(l) != 1 || l[0].ID != "111111111111" || !l[0].Active() {
		t.Errorf("List = %+v, %v", l, err)
	}
}
