package doctor

import "testing"

// FuzzPolicy: any resource policy document is read and evaluated without
// panicking.
func FuzzPolicy(f *testing.F) {
	f.Add(bucketPolicy)
	f.Add(`{"Statement":{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*","Condition":{"StringLikeIfExists":{"aws:SourceArn":["a*",1]}}}}`)
	f.Add(`{"Statement":[{"Principal":{"Service":["cloudtrail.amazonaws.com"]},"Action":["s3:[x"],"Resource":null}]}`)
	c := Central{Partition: "aws", Region: "us-east-1", OrganizationID: "o-abc", Bucket: "b", KeyPrefix: "cloudtrail",
		TrailNames: []string{"org-audit"}, Account: "333333333333"}
	needs := c.needs()["bucket"]
	f.Fuzz(func(t *testing.T, doc string) {
		stmts, err := parsePolicy(doc)
		if err != nil {
			return
		}
		for _, n := range needs {
			_ = allows(stmts, n)
		}
	})
}
