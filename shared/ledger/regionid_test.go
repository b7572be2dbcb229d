package ledger

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trailwarden/trailwarden/shared/awsid"
)

var update = flag.Bool("update", false, "append new Region ids to testdata/regionids.txt")

// Every Region of AWS's partition data has a stable id, and no id ever
// names another Region: testdata/regionids.txt holds every id released
// (-update only appends).
func TestRegionIDsStable(t *testing.T) {
	for _, p := range awsid.PartitionIDs() {
		for _, r := range awsid.Regions(p) {
			if _, ok := regionIDs[r]; !ok {
				t.Errorf("Region %s (partition %s) has no id: append it to regionNames", r, p)
			}
		}
	}
	if len(regionIDs) != len(regionNames)-1 {
		t.Errorf("regionNames lists a Region twice")
	}
	golden := filepath.Join("testdata", "regionids.txt")
	raw, err := os.ReadFile(golden)
	if err != nil && !*update {
		t.Fatal(err)
	}
	released := strings.Fields(string(raw))
	for i, line := range released {
		var id int
		var name string
		if _, err := fmt.Sscanf(line, "%d=%s", &id, &name); err != nil {
			t.Fatalf("%s line %d: %q", golden, i+1, line)
		}
		if id <= 0 || id >= len(regionNames) || regionNames[id] != name {
			t.Errorf("released id %d names %s; regionNames changed it (ids are append-only)", id, name)
		}
	}
	if *update && !t.Failed() {
		var b strings.Builder
		b.WriteString(strings.Join(released, "\n"))
		for id := len(released) + 1; id < len(regionNames); id++ {
			if b.Len() > 0 {
				b.WriteString("\n")
			}
			fmt.Fprintf(&b, "%d=%s", id, regionNames[id])
		}
		b.WriteString("\n")
		if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
