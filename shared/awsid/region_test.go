package awsid_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/trailwarden/trailwarden/shared/awsid"
	"github.com/trailwarden/trailwarden/shared/awsid/internal/partdata"
)

// TestPartitionsMatchSDK compares the generated table with partitions.json
// of the aws-sdk-go-v2 version go.mod pins (run go generate after a bump).
func TestPartitionsMatchSDK(t *testing.T) {
	dir, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", partdata.Module).Output()
	if err != nil {
		t.Fatalf("locate %s: %v", partdata.Module, err)
	}
	raw, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(dir)), partdata.File))
	if err != nil {
		t.Fatal(err)
	}
	parts, err := partdata.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	if len(parts) < 8 {
		t.Fatalf("only %d partitions in the SDK's data", len(parts))
	}
	for _, p := range parts {
		if !awsid.IsPartition(p.ID) {
			t.Errorf("partition %s missing", p.ID)
		}
		if got := awsid.Regions(p.ID); !slices.Equal(got, p.Regions) {
			t.Errorf("Regions(%s) = %v, SDK lists %v", p.ID, got, p.Regions)
		}
		re := regexp.MustCompile(p.RegionRegex)
		for _, r := range p.Regions {
			if got := awsid.Partition(r); got != p.ID {
				t.Errorf("Partition(%s) = %s, want %s", r, got, p.ID)
			}
			if !awsid.KnownRegion(r) || !awsid.IsRegion(r) || !re.MatchString(r) {
				t.Errorf("%s: known %v, shape %v", r, awsid.KnownRegion(r), awsid.IsRegion(r))
			}
		}
	}
}

// TestPartition pins the cases the project's earlier copies got wrong
// (isolated and sovereign partitions fell back to "aws").
func TestPartition(t *testing.T) {
	for region, want := range map[string]string{
		"us-east-1": "aws", "eu-west-3": "aws", "ap-southeast-7": "aws",
		"cn-north-1": "aws-cn", "cn-northwest-1": "aws-cn",
		"us-gov-west-1": "aws-us-gov", "us-gov-east-1": "aws-us-gov",
		"us-iso-east-1": "aws-iso", "us-isob-east-1": "aws-iso-b",
		"eu-isoe-west-1": "aws-iso-e", "us-isof-south-1": "aws-iso-f", "us-isof-east-1": "aws-iso-f",
		"eusc-de-east-1": "aws-eusc",
		// Not (yet) listed: decided by the partitions' Region patterns.
		"us-east-12": "aws", "cn-south-2": "aws-cn", "us-gov-north-1": "aws-us-gov", "eu-isoe-north-3": "aws-iso-e",
		"eusc-de-west-1": "aws-eusc",
		// No pattern matches: the SDK's default.
		"xy-mars-1": "aws",
	} {
		if got := awsid.Partition(region); got != want {
			t.Errorf("Partition(%q) = %q, want %q", region, got, want)
		}
	}
}

func TestKnownRegion(t *testing.T) {
	for r, want := range map[string]bool{
		"us-east-1": true, "cn-north-1": true, "us-gov-east-1": true, "eu-isoe-west-1": true, "eusc-de-east-1": true,
		"xy-mars-1": false, "us-east-12": false, "aws-global": false, "": false,
	} {
		if got := awsid.KnownRegion(r); got != want {
			t.Errorf("KnownRegion(%q) = %v, want %v", r, got, want)
		}
	}
}

func TestIsRegion(t *testing.T) {
	for _, ok := range []string{"us-east-1", "us-gov-west-1", "us-isob-east-1", "eusc-de-east-1", "eu-isoe-west-1",
		"ap-southeast-7", "xy-mars-12", "us-east-10", "us-west-0"} {
		if !awsid.IsRegion(ok) {
			t.Errorf("IsRegion(%q) = false", ok)
		}
	}
	for _, bad := range []string{"", "us-east", "useast1", "us-east-01", "us-east-123", "US-east-1", "u-east-1",
		"abcde-east-1", "us--east-1", "us-east-1-", "a-b-c-d-e-1", "us-ea5t-1", "aws-global", "us_east-1"} {
		if awsid.IsRegion(bad) {
			t.Errorf("IsRegion(%q) = true", bad)
		}
	}
}

func FuzzIsRegion(f *testing.F) {
	for _, s := range []string{"us-east-1", "eusc-de-east-1", "us-east-12", "a-b-1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if awsid.IsRegion(s) && awsid.Partition(s) == "" {
			t.Errorf("%q: a Region with no partition", s)
		}
		if awsid.KnownRegion(s) && !awsid.IsRegion(s) {
			t.Errorf("%q: listed but not Region-shaped", s)
		}
	})
}
