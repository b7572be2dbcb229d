package policy

import "testing"

// TestPartitionOf pins the partition of a home Region: every partition of
// AWS's data, not only aws, aws-cn and aws-us-gov; unlisted Regions are unknown.
func TestPartitionOf(t *testing.T) {
	for region, want := range map[string]string{
		"us-east-1": "aws", "cn-north-1": "aws-cn", "us-gov-west-1": "aws-us-gov",
		"eu-isoe-west-1": "aws-iso-e", "us-isof-south-1": "aws-iso-f", "eusc-de-east-1": "aws-eusc",
		"us-east-12": "", "xy-mars-1": "",
	} {
		got, ok := PartitionOf(region)
		if got != want || ok != (want != "") {
			t.Errorf("PartitionOf(%q) = %q, %v; want %q", region, got, ok, want)
		}
	}
	if _, err := ParseARN("arn:aws-iso-e:sns:eu-isoe-west-1:111111111111:t"); err != nil {
		t.Errorf("ParseARN in aws-iso-e: %v", err)
	}
	if _, err := ParseARN("arn:aws-mars:sns:us-east-1:111111111111:t"); err == nil {
		t.Error("ParseARN accepted partition aws-mars")
	}
}
