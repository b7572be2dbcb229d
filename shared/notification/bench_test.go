package notification_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/trailwarden/trailwarden/shared/logkey"
	"github.com/trailwarden/trailwarden/shared/notification"
)

// benchBodies is a realistic delivery-queue mix: SNS envelopes announcing log
// files (90% list one key, the rest 2 to 5), some raw-delivery bodies, and
// S3 → EventBridge events for digests (hourly per account and Region against
// log files every ~5 minutes, so about one digest per twelve log files).
var benchBodies = sync.OnceValue(func() []string {
	r := rand.New(rand.NewPCG(1, 2))
	regions := []string{"us-east-1", "us-east-2", "us-west-1", "us-west-2", "eu-west-1", "eu-west-2", "eu-central-1",
		"ap-southeast-1", "ap-southeast-2", "ap-northeast-1", "ap-south-1", "sa-east-1", "ca-central-1", "eu-north-1",
		"eu-west-3", "ap-northeast-2", "ap-northeast-3"}
	const unique = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	logKey := func(acct, region string, t time.Time) string {
		u := make([]byte, 16)
		for i := range u {
			u[i] = unique[r.IntN(len(unique))]
		}
		return fmt.Sprintf("cloudtrail/AWSLogs/o-a1b2c3d4e5/%s/CloudTrail/%s/%s/%s_CloudTrail_%s_%s_%s.json.gz",
			acct, region, t.Format("2006/01/02"), acct, region, t.Format("20060102T1504Z"), u)
	}
	digestKey := func(acct, region string, t time.Time) string {
		return fmt.Sprintf("cloudtrail/AWSLogs/o-a1b2c3d4e5/%s/CloudTrail-Digest/%s/%s/%s_CloudTrail-Digest_%s_trailwarden_us-east-1_%s.json.gz",
			acct, region, t.Format("2006/01/02"), acct, region, t.Format("20060102T150405Z"))
	}
	sig := make([]byte, 344)
	for i := range sig {
		sig[i] = unique[r.IntN(len(unique))]
	}
	var bodies []string
	base := time.Date(2026, 3, 14, 0, 0, 0, 0, time.UTC)
	for i := 0; i < 1000; i++ {
		acct := fmt.Sprintf("%012d", 300000000000+r.IntN(200))
		region := regions[r.IntN(len(regions))]
		t := base.Add(time.Duration(r.IntN(86400)) * time.Second)
		if r.IntN(13) == 0 {
			ev, _ := json.Marshal(map[string]any{
				"version": "0", "id": "17793124-05d4-b198-2fde-7ededc63b103", "detail-type": "Object Created", "source": "aws.s3",
				"account": "222222222222", "time": t.Format(time.RFC3339), "region": "us-east-1",
				"resources": []string{"arn:aws:s3:::acme-org-cloudtrail"},
				"detail": map[string]any{"version": "0", "bucket": map[string]string{"name": "acme-org-cloudtrail"},
					"object":     map[string]any{"key": digestKey(acct, region, t), "size": 1305, "etag": "b1946ac92492d2347c6235b4d2611184", "sequencer": "617f08299329d189"},
					"request-id": "N4N7GDK58NMKJ12R", "requester": "cloudtrail.amazonaws.com", "reason": "PutObject"},
			})
			bodies = append(bodies, string(ev))
			continue
		}
		n := 1
		if r.IntN(10) == 0 {
			n = 2 + r.IntN(4)
		}
		keys := make([]string, n)
		for j := range keys {
			keys[j] = logKey(acct, region, t)
		}
		ct, _ := json.Marshal(map[string]any{"s3Bucket": "acme-org-cloudtrail", "s3ObjectKey": keys})
		if r.IntN(20) == 0 {
			bodies = append(bodies, string(ct))
			continue
		}
		env, _ := json.MarshalIndent(map[string]string{
			"Type": "Notification", "MessageId": "6513270e-269e-4d37-b2a7-4de452e6b438",
			"TopicArn": "arn:aws:sns:us-east-1:222222222222:trailwarden-deliveries", "Message": string(ct),
			"Timestamp": t.Add(40 * time.Second).Format("2006-01-02T15:04:05.000Z"), "SignatureVersion": "1", "Signature": string(sig),
			"SigningCertURL": "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-9c6465fa7f48f5cacd23014631ec1136.pem",
			"UnsubscribeURL": "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=arn:aws:sns:us-east-1:222222222222:trailwarden-deliveries:4c1a7a4e",
		}, "", "  ")
		bodies = append(bodies, string(env))
	}
	return bodies
})

var benchBytes = sync.OnceValue(func() [][]byte {
	var out [][]byte
	for _, b := range benchBodies() {
		out = append(out, []byte(b))
	}
	return out
})

// validNsPerRecord is json.Valid's cost per body, measured once by a plain
// timing loop (testing.Benchmark cannot run inside a running benchmark).
var validNsPerRecord = sync.OnceValue(func() float64 {
	bodies := benchBytes()
	best := 0.0
	for round := 0; round < 5; round++ {
		start := time.Now()
		n := 0
		for time.Since(start) < 100*time.Millisecond {
			for _, body := range bodies {
				json.Valid(body)
			}
			n++
		}
		ns := float64(time.Since(start).Nanoseconds()) / float64(n*len(bodies))
		if best == 0 || ns < best {
			best = ns
		}
	}
	return best
})

func benchmarkJSONValid(b *testing.B) {
	bodies := benchBytes()
	b.ResetTimer()
	for b.Loop() {
		for _, body := range bodies {
			if !json.Valid(body) {
				b.Fatal("invalid")
			}
		}
	}
}

func report(b *testing.B, records int) {
	perRecord := float64(b.Elapsed().Nanoseconds()) / float64(b.N*records)
	b.ReportMetric(1e9/perRecord, "records/s")
	b.ReportMetric(perRecord, "ns/record")
	if b.Name() != "BenchmarkJSONValid" {
		b.ReportMetric(perRecord/validNsPerRecord(), "x-json.Valid")
	}
}

// BenchmarkJSONValid is the baseline: json.Valid over the same bodies.
func BenchmarkJSONValid(b *testing.B) {
	b.ReportAllocs()
	benchmarkJSONValid(b)
	report(b, len(benchBodies()))
}

func BenchmarkParseBody(b *testing.B) {
	bodies := benchBodies()
	validNsPerRecord()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		for _, body := range bodies {
			if m, err := notification.Parse(body); err != nil || m.Outcome != notification.OutcomeOK {
				b.Fatal(m.Reason)
			}
		}
	}
	report(b, len(bodies))
}

// BenchmarkParseBodyBatch uses one Parser per SQS batch of 10 records.
func BenchmarkParseBodyBatch(b *testing.B) {
	bodies := benchBodies()
	validNsPerRecord()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		var p notification.Parser
		for i, body := range bodies {
			if i%10 == 0 {
				p = notification.Parser{}
			}
			if m, err := p.Parse(body); err != nil || m.Outcome != notification.OutcomeOK {
				b.Fatal(m.Reason)
			}
		}
	}
	report(b, len(bodies))
}

func BenchmarkParseKey(b *testing.B) {
	var keys []string
	for _, body := range benchBodies() {
		m, _ := notification.Parse(body)
		keys = append(keys, m.Keys...)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		for _, k := range keys {
			if _, err := logkey.Parse(k); err != nil {
				b.Fatal(err)
			}
		}
	}
	perKey := float64(b.Elapsed().Nanoseconds()) / float64(b.N*len(keys))
	b.ReportMetric(1e9/perKey, "keys/s")
	b.ReportMetric(perKey, "ns/key")
}

type arrivalKey struct {
	account, region string
	kind            logkey.Kind
}

type arrival struct {
	latest time.Time
	files  int
}

// BenchmarkParseAndClassify is the verifier's pure path per SQS batch of
// 10: parse each body, parse and classify each key, and coalesce arrivals
// per account × Region × kind (one ledger write each).
func BenchmarkParseAndClassify(b *testing.B) {
	bodies := benchBodies()
	validNsPerRecord()
	coalesced := make(map[arrivalKey]arrival, 16)
	writes := 0
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		var p notification.Parser
		for i, body := range bodies {
			if i%10 == 0 {
				writes += len(coalesced)
				clear(coalesced)
				p = notification.Parser{}
			}
			m, err := p.Parse(body)
			if err != nil || m.Outcome != notification.OutcomeOK {
				b.Fatal(m.Reason)
			}
			for _, key := range m.Keys {
				k, err := logkey.Parse(key)
				if err != nil || k.Flags != 0 || k.Prefix != "cloudtrail" || m.Bucket != "acme-org-cloudtrail" {
					b.Fatal(err)
				}
				ak := arrivalKey{k.Account, k.Region, k.Kind}
				a := coalesced[ak]
				if k.Time.After(a.latest) {
					a.latest = k.Time
				}
				a.files++
				coalesced[ak] = a
			}
		}
	}
	_ = writes
	report(b, len(bodies))
}
