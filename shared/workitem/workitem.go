// Package workitem is trailwarden's own message on the request queue: "converge
// this account", sent by the reconciler, `trailwarden backfill`, the watchdog
// (repairs) and the CLI. Organizations and CloudTrail events share the queue;
// IsWorkItem tells the two apart without a full decode.
package workitem

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/trailwarden/trailwarden/shared/awsid"
	"github.com/trailwarden/trailwarden/shared/fault"
)

// Marker is the top-level key that only trailwarden's own messages carry.
const Marker = "trailwarden"

// Reasons a converge was requested.
const (
	ReasonBackfill  = "backfill"
	ReasonReconcile = "reconcile"
	ReasonRepair    = "repair"
	ReasonCLI       = "cli"
)

// Item asks the enabler to converge one account.
type Item struct {
	Kind        string    `json:"trailwarden"` // always "converge"
	Version     int       `json:"version"`
	Account     string    `json:"account"`
	Reason      string    `json:"reason"`
	Detail      string    `json:"detail,omitempty"` // e.g. the watchdog's diagnosis
	RequestedAt time.Time `json:"requestedAt"`
	// JoinedVia is set by backfill/reconcile from ListAccounts' JoinedMethod.
	JoinedVia string `json:"joinedVia,omitempty"`
}

// New builds a converge request.
func New(account, reason, detail string, at time.Time) Item {
	return Item{Kind: "converge", Version: 1, Account: account, Reason: reason, Detail: detail, RequestedAt: at.UTC()}
}

// Marshal renders the message body.
func (it Item) Marshal() (string, error) {
	b, err := json.Marshal(it)
	return string(b), err
}

// IsWorkItem reports whether body looks like one of ours (a JSON object
// with the marker key), cheaply.
func IsWorkItem(body []byte) bool {
	b := bytes.TrimSpace(body)
	if len(b) == 0 || b[0] != '{' {
		return false
	}
	var probe struct {
		Kind *string `json:"trailwarden"`
	}
	return json.Unmarshal(b, &probe) == nil && probe.Kind != nil
}

// Parse decodes and validates a work item; a bad one is poison.
func Parse(body []byte) (Item, error) {
	var it Item
	if err := json.Unmarshal(body, &it); err != nil {
		return Item{}, fault.Poisonf("MalformedWorkItem", "work item is not valid JSON: %v", err)
	}
	if it.Kind != "converge" {
		return Item{}, fault.Poisonf("MalformedWorkItem", "unknown work item kind %q", it.Kind)
	}
	if !awsid.IsAccountID(it.Account) {
		return Item{}, fault.Poisonf("MalformedWorkItem", "work item account %q is not a 12-digit account id", it.Account)
	}
	switch it.Reason {
	case ReasonBackfill, ReasonReconcile, ReasonRepair, ReasonCLI:
	default:
		return Item{}, fault.Poisonf("MalformedWorkItem", "unknown work item reason %q", it.Reason)
	}
	return it, nil
}

// String is a short description for logs.
func (it Item) String() string {
	return fmt.Sprintf("converge %s (%s)", it.Account, it.Reason)
}
