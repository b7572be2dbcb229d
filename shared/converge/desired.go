// Package converge makes one account's trail match a rendered policy: it reads
// the live trail, computes the difference, applies only that difference, and
// returns a change report listing what changed and which calls were made.
//
// The engine is shared by the enabler, the watchdog's repairs and the CLI
// (plan / enable). It is idempotent: a second run makes no write call.
package converge

import (
	"github.com/trailwarden/trailwarden/shared/policy"
)

// ManagedTagsKey is the trail tag through which trailwarden tracks the tag
// keys it manages (policy.ManagedTagsKey).
const ManagedTagsKey = policy.ManagedTagsKey

// Desired is the trail an account must have: the policy's rendered requests
// (policy.Render), trailwarden's own tag included. The engine sends them as
// they are to create a trail, and only the fields that differ to update
// one, so `trailwarden policy render` shows the state the engine applies.
type Desired = policy.Requests
