package awsenv

import "testing"

// TestRoleARNPartition pins member role ARNs in isolated and sovereign
// partitions (these once fell back to "aws").
func TestRoleARNPartition(t *testing.T) {
	for region, want := range map[string]string{
		"us-east-1":       "arn:aws:iam::111111111111:role/r",
		"cn-north-1":      "arn:aws-cn:iam::111111111111:role/r",
		"us-gov-east-1":   "arn:aws-us-gov:iam::111111111111:role/r",
		"eu-isoe-west-1":  "arn:aws-iso-e:iam::111111111111:role/r",
		"us-isof-south-1": "arn:aws-iso-f:iam::111111111111:role/r",
		"eusc-de-east-1":  "arn:aws-eusc:iam::111111111111:role/r",
	} {
		if got := RoleARN(region, "111111111111", "r"); got != want {
			t.Errorf("RoleARN(%s) = %s, want %s", region, got, want)
		}
	}
}
