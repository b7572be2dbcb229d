package ledger_test

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/trailwarden/trailwarden/shared/ledger"
)

func packedSample() map[string]ledger.RegionState {
	return map[string]ledger.RegionState{
		"us-east-1": {LastLog: t0.Add(3 * time.Minute), LastDigest: t0.Add(-17*time.Minute + 31*time.Second),
			LastKey: acct + "_CloudTrail_us-east-1_20260314T1201Z_AbCdEfGhIjKlMnOp.json.gz", Counts: map[string]int64{"20260313": 700, "20260314": 12}},
		"eu-west-1":    {LastDigest: t0.Add(-time.Hour)},
		"xy-mars-12":   {LastLog: t0, LastKey: "a name off the grammar.json.gz", Counts: map[string]int64{"20260314": 1}},
		"ap-south-1":   {LastLog: t0.Add(time.Minute), LastKey: acct + "_CloudTrail_ap-south-1_20260314T1201Z_AbCdEfGhIjKlMnOp.json.gz"},
		"sa-east-1":    {LastLog: t0.Add(30 * time.Second), LastKey: acct + "_CloudTrail_sa-east-1_20260314T1200Z_AbCdEfGhIjKlMnOp.json.gz"},
		"me-south-1":   {LastKey: acct + "_CloudTrail_me-south-1_20260314T1200Z_AbCdEfGhIjKlMnOp.json.gz"},
		"il-central-1": {},
	}
}

// What EncodeRegions packs reads back the same: compact keys (stamp before
// or at the log time), keys off the grammar or of no log time whole,
// Regions without an id by name.
func TestPackedRegionsRoundTrip(t *testing.T) {
	in := packedSample()
	b, err := ledger.EncodeRegions(acct, in)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ledger.DecodeRegions(acct, b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, in) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, in)
	}
	for name, bad := range map[string]map[string]ledger.RegionState{
		"empty Region": {"": {}},
		"long Region":  {"a-region-name-longer-than-32-bytes-1": {}},
		"before 1970":  {"us-east-1": {LastLog: time.Unix(-5, 0)}},
	} {
		if _, err := ledger.EncodeRegions(acct, bad); err == nil {
			t.Errorf("%s: encoded", name)
		}
	}
}

func TestDecodeRegionsStrict(t *testing.T) {
	good, _ := ledger.EncodeRegions(acct, map[string]ledger.RegionState{"us-east-1": {LastLog: t0}})
	for name, b := range map[string][]byte{
		"empty":          nil,
		"version":        append([]byte{9}, good[1:]...),
		"truncated":      good[:len(good)-1],
		"trailing":       append(append([]byte{}, good...), 0),
		"unknown id":     {1, 0, 1, 0x7f, 0},
		"named with id":  {1, 0, 1, 0, 9, 'u', 's', '-', 'e', 'a', 's', 't', '-', '1', 0},
		"unknown flag":   {1, 0, 1, 1, 0x40},
		"both key forms": {1, 0, 1, 1, 0x0d, 0},
		"compact no log": {1, 0, 1, 1, 0x04, 0},
		"Region twice":   {1, 0, 2, 1, 0, 1, 0},
		"zero count":     {1, 0, 1, 1, 0x10, 0, 0},
	} {
		if _, err := ledger.DecodeRegions(acct, b); !errors.Is(err, ledger.ErrItemCorrupt) {
			t.Errorf("%s: err = %v, want ErrItemCorrupt", name, err)
		}
	}
}

// DecodeRegions reads bytes from a table: it must fail cleanly, never
// panic, and what it accepts must encode and decode to the same Regions.
func FuzzDecodeRegions(f *testing.F) {
	good, _ := ledger.EncodeRegions(acct, packedSample())
	f.Add(good)
	f.Add([]byte{1, 0, 0})
	f.Add([]byte{1, 0, 1, 0, 3, 'x', 'y', 'z', 0x13, 5, 9, 0, 7})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		regions, err := ledger.DecodeRegions(acct, b)
		if err != nil {
			return
		}
		again, err := ledger.EncodeRegions(acct, regions)
		if err != nil {
			t.Fatalf("decoded Regions do not encode: %v", err)
		}
		back, err := ledger.DecodeRegions(acct, again)
		if err != nil || !reflect.DeepEqual(back, regions) {
			t.Fatalf("re-encoded Regions differ: %v\n%+v\n%+v", err, back, regions)
		}
	})
}
