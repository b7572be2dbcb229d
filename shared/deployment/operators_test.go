package deployment

import (
	"strings"
	"testing"
)

func TestOperators(t *testing.T) {
	base := "deployment:\n  automationAccount: '111111111111'\n  regions: [us-east-1]\n  singleAccount: true\n"
	good := base + `  operators:
    readOnlyPrincipals: ["arn:aws:iam::444444444444:role/AWSReservedSSO_ReadOnly_0123", "arn:aws:iam::444444444444:root"]
    convergePrincipals: ["arn:aws-us-gov:iam::444444444444:user/alice"]
`
	d, err := parseSection([]byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Validate(); err != nil || len(d.Operators.ReadOnlyPrincipals) != 2 || len(d.Operators.ConvergePrincipals) != 1 {
		t.Fatalf("valid operators: %v %+v", err, d.Operators)
	}
	bad := base + `  operators:
    readOnlyPrincipals: ["arn:aws:iam::444444444444:role/A", "arn:aws:iam::444444444444:role/A"]
    convergePrincipals: ["alice", "arn:aws:s3:::bucket"]
`
	d, err = parseSection([]byte(bad))
	if err != nil {
		t.Fatal(err)
	}
	err = d.Validate()
	for _, want := range []string{"deployment.operators.readOnlyPrincipals[1]: ", "deployment.operators.convergePrincipals[0]: ", "deployment.operators.convergePrincipals[1]: "} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("no problem for %s: %v", want, err)
		}
	}
}
