package integritybench

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/trailwarden/trailwarden/internal/cloudtrailsim"
	"github.com/trailwarden/trailwarden/internal/emulator"
	"github.com/trailwarden/trailwarden/shared/integrity"
)

const (
	bucket    = "org-cloudtrail-logs"
	trailName = "trailwarden"
	home      = "us-east-1"
	account   = emulator.ManagementAccountID
)

// arrival is one digest as the delivery queue announces it.
type arrival struct {
	key string
	at  time.Time
}

// world is one account's trail output, Regions × hours of the reference
// model, in a fresh emulated bucket.
type world struct {
	srv        *emulator.Server
	regions    []string
	hours      int
	start, end time.Time // the validation window
	digests    []arrival // in order of arrival
	listed     []string  // log files the digests list
	size       map[string]int64
}

// newWorld delivers hours of the reference model (cloudtrailsim.NewModel,
// one account) in regions: each active Region × hour's log files, then
// every Region's hourly digest listing them, a few minutes after the hour.
func newWorld(tb testing.TB, regions []string, hours int) *world {
	tb.Helper()
	ctx := context.Background()
	srv := emulator.Reset(tb)
	cfg := srv.ManagementConfig(home)
	sc := s3.NewFromConfig(cfg, emulator.S3Options)
	if _, err := sc.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		tb.Fatal(err)
	}
	if _, err := cloudtrail.NewFromConfig(cfg).CreateTrail(ctx, &cloudtrail.CreateTrailInput{Name: aws.String(trailName),
		S3BucketName: aws.String(bucket), IsMultiRegionTrail: aws.Bool(true), EnableLogFileValidation: aws.Bool(true)}); err != nil {
		tb.Fatal(err)
	}
	m := cloudtrailsim.NewModel(1, 19)
	m.Regions, m.Hours = regions, hours
	m.ActiveRegionsPerAccount = min(m.ActiveRegionsPerAccount, len(regions))
	m.AccountID = func(int) string { return account }
	files := map[string]int{}
	if err := m.HourlyLogFiles(func(_, region string, hour, n int) { files[fmt.Sprint(region, hour)] = n }); err != nil {
		tb.Fatal(err)
	}
	// One Deliverer per Region, each with its own seed, and a fixed signing
	// key: the objects (names, bodies, signatures) are the same every run.
	key := signingKey(tb)
	delivers := make([]*cloudtrailsim.Deliverer, len(regions))
	for i := range regions {
		d, err := cloudtrailsim.New(sc, nil, cloudtrailsim.Trail{Name: trailName, HomeRegion: home, Bucket: bucket},
			cloudtrailsim.Options{ControlURL: srv.URL(), Seed: uint64(19 + i), Key: key, KeyValidFrom: m.Start.Add(-48 * time.Hour)})
		if err != nil {
			tb.Fatal(err)
		}
		delivers[i] = d
	}
	w := &world{srv: srv, regions: regions, hours: hours, start: m.Start, end: m.Start.Add(time.Duration(hours)*time.Hour + 10*time.Minute)}
	var mu sync.Mutex
	var wg sync.WaitGroup
	errs := make([]error, len(regions))
	for i, region := range regions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d := delivers[i]
			for h := range hours {
				hourStart := m.Start.Add(time.Duration(h) * time.Hour)
				if n := files[fmt.Sprint(region, h)]; n > 0 {
					if _, err := d.DeliverLogFiles(ctx, account, region, hourStart.Add(30*time.Minute), n); err != nil {
						errs[i] = err
						return
					}
				}
				// CloudTrail's digest times are fixed per chain: a few minutes after the hour.
				at := hourStart.Add(time.Hour + time.Minute + time.Duration(i)*20*time.Second)
				df, err := d.DeliverDigest(ctx, account, region, at, nil)
				if err != nil {
					errs[i] = err
					return
				}
				mu.Lock()
				w.digests = append(w.digests, arrival{key: df.Key, at: at})
				for _, l := range df.Digest.LogFiles {
					w.listed = append(w.listed, l.S3Object)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		tb.Fatal(err)
	}
	slices.SortFunc(w.digests, func(a, b arrival) int { return a.at.Compare(b.at) })
	// validate-logs asks ListPublicKeys in the Region it validates.
	if err := delivers[0].RegisterPublicKeys(ctx, regions...); err != nil {
		tb.Fatal(err)
	}
	w.size = objectSizes(tb, sc)
	return w
}

// signingKey is testdata/signing-key.pem, a test-only RSA-2048 key.
func signingKey(tb testing.TB) *rsa.PrivateKey {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "signing-key.pem"))
	if err != nil {
		tb.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		tb.Fatal("testdata/signing-key.pem: no PEM block")
	}
	k, err := x509.ParsePKCS1PrivateKey(blk.Bytes)
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

func objectSizes(tb testing.TB, sc *s3.Client) map[string]int64 {
	tb.Helper()
	out := map[string]int64{}
	p := s3.NewListObjectsV2Paginator(sc, &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			tb.Fatal(err)
		}
		for _, o := range page.Contents {
			out[aws.ToString(o.Key)] = aws.ToInt64(o.Size)
		}
	}
	return out
}

// accountHours is what a full validation of the world validates.
func (w *world) accountHours() float64 { return float64(w.hours) }

// expectedReads is what reading each digest once, and the log files mode
// selects once, costs: GETs and bytes.
func (w *world) expectedReads(mode integrity.LogFileMode) (gets, bytes int64) {
	for _, d := range w.digests {
		gets, bytes = gets+1, bytes+w.size[d.key]
	}
	for _, l := range w.listed {
		if mode == integrity.LogFilesAll || mode == integrity.LogFilesSample && integrity.Sampled(l) {
			gets, bytes = gets+1, bytes+w.size[l]
		}
	}
	return gets, bytes
}

func (w *world) trailARN() string {
	return "arn:aws:cloudtrail:" + home + ":" + account + ":trail/" + trailName
}

func isDigest(key string) bool { return strings.Contains(key, "/CloudTrail-Digest/") }
