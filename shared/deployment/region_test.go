package deployment

import (
	"strings"
	"testing"
)

// TestRegionsShape pins the Region rule (awsid.IsRegion) for the deployment
// section: two-digit suffixes and every partition's Regions are accepted.
func TestRegionsShape(t *testing.T) {
	for regions, ok := range map[string]bool{
		"[us-east-1, ap-southeast-12, us-isof-south-1, eusc-de-east-1]": true,
		"[us-east-123]": false, "[Us-east-1]": false,
	} {
		d, err := parseSection([]byte("deployment:\n  automationAccount: '111111111111'\n  regions: " + regions + "\n  singleAccount: true\n"))
		if err != nil {
			t.Fatal(err)
		}
		err = d.Validate()
		if (err == nil) != ok || (err != nil && !strings.Contains(err.Error(), "deployment.regions[0]")) {
			t.Errorf("%s: err = %v, want ok %v", regions, err, ok)
		}
	}
}
