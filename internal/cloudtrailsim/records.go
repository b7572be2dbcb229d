package cloudtrailsim

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sort"
	"time"
)

// Record is one CloudTrail management event record, with the fields of
// "CloudTrail record contents" in the order CloudTrail writes them.
type Record struct {
	EventVersion       string          `json:"eventVersion"`
	UserIdentity       UserIdentity    `json:"userIdentity"`
	EventTime          string          `json:"eventTime"`
	EventSource        string          `json:"eventSource"`
	EventName          string          `json:"eventName"`
	AWSRegion          string          `json:"awsRegion"`
	SourceIPAddress    string          `json:"sourceIPAddress"`
	UserAgent          string          `json:"userAgent"`
	RequestParameters  json.RawMessage `json:"requestParameters"`
	ResponseElements   json.RawMessage `json:"responseElements"`
	RequestID          string          `json:"requestID"`
	EventID            string          `json:"eventID"`
	ReadOnly           bool            `json:"readOnly"`
	EventType          string          `json:"eventType"`
	ManagementEvent    bool            `json:"managementEvent"`
	RecipientAccountID string          `json:"recipientAccountId"`
	EventCategory      string          `json:"eventCategory"`
	TLSDetails         *TLSDetails     `json:"tlsDetails,omitempty"`
}

// UserIdentity is the userIdentity element of an assumed-role caller.
type UserIdentity struct {
	Type           string          `json:"type"`
	PrincipalID    string          `json:"principalId"`
	ARN            string          `json:"arn"`
	AccountID      string          `json:"accountId"`
	AccessKeyID    string          `json:"accessKeyId"`
	SessionContext *SessionContext `json:"sessionContext,omitempty"`
}

// SessionContext of an assumed-role identity.
type SessionContext struct {
	SessionIssuer SessionIssuer     `json:"sessionIssuer"`
	Attributes    map[string]string `json:"attributes"`
}

// SessionIssuer is the role a session was issued from.
type SessionIssuer struct {
	Type        string `json:"type"`
	PrincipalID string `json:"principalId"`
	ARN         string `json:"arn"`
	AccountID   string `json:"accountId"`
	UserName    string `json:"userName"`
}

// TLSDetails of the caller's connection (eventVersion 1.08+).
type TLSDetails struct {
	TLSVersion               string `json:"tlsVersion"`
	CipherSuite              string `json:"cipherSuite"`
	ClientProvidedHostHeader string `json:"clientProvidedHostHeader"`
}

// LogFile is the body of a CloudTrail log file before gzip.
type LogFile struct {
	Records []Record `json:"Records"`
}

// apiCall is a template for a common management API call.
type apiCall struct {
	service  string // endpoint prefix, e.g. "ec2"
	name     string
	readOnly bool
	req      func(r *rand.Rand) string
	resp     func(r *rand.Rand) string
}

var apiCalls = []apiCall{
	{"ec2", "DescribeInstances", true,
		func(*rand.Rand) string { return `{"instancesSet":{},"filterSet":{}}` },
		func(*rand.Rand) string { return "null" }},
	{"sts", "GetCallerIdentity", true,
		func(*rand.Rand) string { return "null" },
		func(*rand.Rand) string { return "null" }},
	{"iam", "GetRole", true,
		func(*rand.Rand) string { return `{"roleName":"OrganizationAccountAccessRole"}` },
		func(*rand.Rand) string { return "null" }},
	{"s3", "GetBucketAcl", true,
		func(r *rand.Rand) string {
			return fmt.Sprintf(`{"bucketName":"app-data-%04d","acl":""}`, r.IntN(10000))
		},
		func(*rand.Rand) string { return "null" }},
	{"kms", "Decrypt", true,
		func(*rand.Rand) string { return `{"encryptionAlgorithm":"SYMMETRIC_DEFAULT"}` },
		func(*rand.Rand) string { return "null" }},
	{"ec2", "CreateTags", false,
		func(r *rand.Rand) string {
			return fmt.Sprintf(`{"resourcesSet":{"items":[{"resourceId":"i-%017x"}]},"tagSet":{"items":[{"key":"team","value":"platform"}]}}`, r.Uint64()>>4)
		},
		func(*rand.Rand) string { return `{"_return":true}` }},
	{"ssm", "PutParameter", false,
		func(*rand.Rand) string { return `{"name":"/app/config","type":"String","overwrite":true}` },
		func(r *rand.Rand) string { return fmt.Sprintf(`{"version":%d,"tier":"Standard"}`, 1+r.IntN(40)) }},
}

// newRecords builds n management event records for account in region, with
// event times spread over the five minutes before at, oldest first.
func newRecords(r *rand.Rand, account, region string, at time.Time, n int) []Record {
	offsets := make([]int, n)
	for i := range offsets {
		offsets[i] = r.IntN(300) // seconds before at
	}
	sort.Sort(sort.Reverse(sort.IntSlice(offsets)))
	recs := make([]Record, n)
	for i := range recs {
		recs[i] = newRecord(r, account, region, at.Add(-time.Duration(offsets[i])*time.Second))
	}
	return recs
}

func newRecord(r *rand.Rand, account, region string, t time.Time) Record {
	c := apiCalls[r.IntN(len(apiCalls))]
	roleID := "AROA" + upperID(r, 17)
	session := fmt.Sprintf("session-%d", r.IntN(1000))
	host := c.service + "." + region + ".amazonaws.com"
	if c.service == "iam" {
		host = "iam.amazonaws.com"
	}
	version := "1.09"
	if r.IntN(4) == 0 {
		version = "1.08"
	}
	return Record{
		EventVersion: version,
		UserIdentity: UserIdentity{
			Type:        "AssumedRole",
			PrincipalID: roleID + ":" + session,
			ARN:         fmt.Sprintf("arn:aws:sts::%s:assumed-role/Deployer/%s", account, session),
			AccountID:   account,
			AccessKeyID: "ASIA" + upperID(r, 16),
			SessionContext: &SessionContext{
				SessionIssuer: SessionIssuer{
					Type:        "Role",
					PrincipalID: roleID,
					ARN:         fmt.Sprintf("arn:aws:iam::%s:role/Deployer", account),
					AccountID:   account,
					UserName:    "Deployer",
				},
				Attributes: map[string]string{
					"creationDate":     t.Add(-time.Duration(r.IntN(3600)) * time.Second).UTC().Format(isoSeconds),
					"mfaAuthenticated": "false",
				},
			},
		},
		EventTime:          t.UTC().Format(isoSeconds),
		EventSource:        c.service + ".amazonaws.com",
		EventName:          c.name,
		AWSRegion:          region,
		SourceIPAddress:    fmt.Sprintf("198.51.100.%d", 1+r.IntN(254)), // documentation range (RFC 5737)
		UserAgent:          "aws-sdk-go-v2/1.41.0 ua/2.1 os/linux lang/go#1.26 api/" + c.service,
		RequestParameters:  json.RawMessage(c.req(r)),
		ResponseElements:   json.RawMessage(c.resp(r)),
		RequestID:          newUUID(r),
		EventID:            newUUID(r),
		ReadOnly:           c.readOnly,
		EventType:          "AwsApiCall",
		ManagementEvent:    true,
		RecipientAccountID: account,
		EventCategory:      "Management",
		TLSDetails: &TLSDetails{
			TLSVersion:               "TLSv1.3",
			CipherSuite:              "TLS_AES_128_GCM_SHA256",
			ClientProvidedHostHeader: host,
		},
	}
}

// InsightRecord is one CloudTrail Insights event record, built from the
// fields documented in "CloudTrail record contents for Insights events for
// trails" (no public sample file exists).
type InsightRecord struct {
	EventVersion       string         `json:"eventVersion"`
	EventTime          string         `json:"eventTime"`
	AWSRegion          string         `json:"awsRegion"`
	EventID            string         `json:"eventID"`
	EventType          string         `json:"eventType"`
	RecipientAccountID string         `json:"recipientAccountId"`
	SharedEventID      string         `json:"sharedEventID"`
	InsightDetails     InsightDetails `json:"insightDetails"`
	EventCategory      string         `json:"eventCategory"`
}

// InsightDetails is the insightDetails block.
type InsightDetails struct {
	State          string         `json:"state"` // Start or End
	EventSource    string         `json:"eventSource"`
	EventName      string         `json:"eventName"`
	InsightType    string         `json:"insightType"` // ApiCallRateInsight or ApiErrorRateInsight
	InsightContext InsightContext `json:"insightContext"`
}

// InsightContext holds the statistics of an Insights event.
type InsightContext struct {
	Statistics InsightStatistics `json:"statistics"`
}

// InsightStatistics compares the unusual activity with the baseline.
type InsightStatistics struct {
	Baseline         map[string]float64 `json:"baseline"`
	Insight          map[string]float64 `json:"insight"`
	InsightDuration  int                `json:"insightDuration,omitempty"`
	BaselineDuration int                `json:"baselineDuration"`
}

// newInsightPair builds the Start and End records of one Insights event.
func newInsightPair(r *rand.Rand, account, region string, start, end time.Time) []InsightRecord {
	shared := newUUID(r)
	duration := int(end.Sub(start).Minutes())
	mk := func(state string, t time.Time, dur int, avg float64) InsightRecord {
		return InsightRecord{
			EventVersion:       "1.08",
			EventTime:          t.UTC().Format(isoSeconds),
			AWSRegion:          region,
			EventID:            newUUID(r),
			EventType:          "AwsCloudTrailInsight",
			RecipientAccountID: account,
			SharedEventID:      shared,
			InsightDetails: InsightDetails{
				State:       state,
				EventSource: "ec2.amazonaws.com",
				EventName:   "RunInstances",
				InsightType: "ApiCallRateInsight",
				InsightContext: InsightContext{Statistics: InsightStatistics{
					Baseline:         map[string]float64{"average": 0.0034},
					Insight:          map[string]float64{"average": avg},
					InsightDuration:  dur,
					BaselineDuration: 10080,
				}},
			},
			EventCategory: "Insight",
		}
	}
	return []InsightRecord{
		mk("Start", start, 1, 12),
		mk("End", end, max(duration, 1), 4.5),
	}
}

// upperID returns n random upper-case letters and digits, the alphabet of
// IAM unique ids and access key ids.
func upperID(r *rand.Rand, n int) string {
	const set = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	b := make([]byte, n)
	for i := range b {
		b[i] = set[r.IntN(len(set))]
	}
	return string(b)
}
