package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/trailwarden/trailwarden/shared/awsenv"
	"github.com/trailwarden/trailwarden/shared/integrity"
	"github.com/trailwarden/trailwarden/shared/logkey"
)

const integrityLong = `verify checks CloudTrail log file integrity, statelessly: every digest under
AWSLogs/ whose digestEndTime is in [--start, --end] (RFC 3339; --end defaults
to now), its signature (key by fingerprint, from ListPublicKeys in the
digest's home Region or from --public-keys, the JSON that 'aws cloudtrail
list-public-keys' prints), its location, its chain links, the digests that
should exist (hourly while a chain shows no restart), and the log files the
digests list (--log-files: all, a deterministic sample, or none). With --dir,
object key K is the file DIR/K (bytes as stored) and its user metadata the
JSON object in DIR/K.metadata.json.

-o json prints {"version": 1, "digests", "logFiles", "gaps", "summary"};
verdicts: digests valid|invalid|missing, log files valid|invalid|missing|
unlisted|skipped; gap kinds chain-restart and stopped (informational) and
missing-digests (a failure). See docs/integrity.md.

mirror copies a bucket's objects under [PREFIX/]AWSLogs/ to DIR in that
layout, user metadata included ('aws s3 sync' drops it). With --start, it
also copies the day before, so the predecessors of the window's digests come
along.

Exit codes: 0 nothing invalid or missing and no missing-digests gap; 1
otherwise, also when no digest is in the window; 2 usage or access errors
(an S3 403 is an access error, never "missing").`

const integrityExample = `  trailwarden integrity verify --bucket central-logs --start 2026-03-14T00:00:00Z --account 111122223333 -o json
  trailwarden integrity mirror --bucket central-logs --dir ./evidence --start 2026-03-14T00:00:00Z
  trailwarden integrity verify --dir ./evidence --public-keys keys.json --start 2026-03-14T00:00:00Z`

func newIntegrityCmd(env *cmdEnv) *cobra.Command {
	var vf verifyFlags
	verify := &cobra.Command{Use: "verify (--bucket NAME | --dir DIR) --start T", Short: "verify digests, chains and log files",
		Long: integrityLong, Example: integrityExample, Args: noArgs,
		RunE: func(c *cobra.Command, _ []string) error { return runIntegrityVerify(c.Context(), env, &vf) }}
	vf.register(verify)
	var mf mirrorFlags
	mirror := &cobra.Command{Use: "mirror --bucket NAME --dir DIR", Short: "copy a bucket's CloudTrail objects and their metadata to a directory",
		Long: integrityLong, Example: integrityExample, Args: noArgs,
		RunE: func(c *cobra.Command, _ []string) error { return runIntegrityMirror(c.Context(), env, &mf) }}
	mirror.Flags().StringVar(&mf.bucket, "bucket", "", "bucket to copy")
	mirror.Flags().StringVar(&mf.dir, "dir", "", "directory to write")
	mirror.Flags().StringVar(&mf.prefix, "prefix", "", "the trails' S3 key prefix")
	mf.window.register(mirror.Flags())
	c := groupCmd("integrity", "verify CloudTrail digests, chains and log files in a bucket or a local mirror", integrityLong, verify, mirror)
	c.Example = integrityExample
	return c
}

// windowFlags are --start and --end.
type windowFlags struct{ start, end string }

func (w *windowFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&w.start, "start", "", "start of the window (RFC 3339), compared with digestEndTime")
	fs.StringVar(&w.end, "end", "", "end of the window (RFC 3339); default now")
}

func (w *windowFlags) parse(now time.Time, needStart bool) (time.Time, time.Time, error) {
	var start, end time.Time
	var err error
	if w.start == "" && needStart {
		return start, end, errors.New("--start is required")
	}
	if w.start != "" {
		if start, err = time.Parse(time.RFC3339, w.start); err != nil {
			return start, end, fmt.Errorf("--start: %w", err)
		}
	}
	end = now
	if w.end != "" {
		if end, err = time.Parse(time.RFC3339, w.end); err != nil {
			return start, end, fmt.Errorf("--end: %w", err)
		}
	}
	if start.After(end) {
		return start, end, errors.New("--start is after --end")
	}
	return start.UTC(), end.UTC(), nil
}

type verifyFlags struct {
	bucket, dir, publicKeys, prefix, logFiles string
	output                                    outputFlag
	window                                    windowFlags
	accounts, regions, trails                 []string
}

func (f *verifyFlags) register(c *cobra.Command) {
	fs := c.Flags()
	fs.StringVar(&f.bucket, "bucket", "", "bucket to read (SDK); with --dir, the bucket name for the location check")
	fs.StringVar(&f.dir, "dir", "", "local mirror to read instead of the bucket")
	fs.StringVar(&f.publicKeys, "public-keys", "", "JSON from 'aws cloudtrail list-public-keys' (default: call ListPublicKeys)")
	fs.StringVar(&f.prefix, "prefix", "", "the trails' S3 key prefix")
	fs.StringVar(&f.logFiles, "log-files", "all", "log files to hash: none, sample or all")
	completeValues(c, "log-files", "none", "sample", "all")
	addOutput(c, &f.output)
	f.window.register(fs)
	fs.StringArrayVar(&f.accounts, "account", nil, "account id to check (repeatable)")
	fs.StringArrayVar(&f.regions, "region", nil, "Region to check (repeatable)")
	fs.StringArrayVar(&f.trails, "trail", nil, "trail name to check (repeatable)")
}

// mirrorFlags are integrity mirror's.
type mirrorFlags struct {
	bucket, dir, prefix string
	window              windowFlags
}

func (f *verifyFlags) check() error {
	if f.bucket == "" && f.dir == "" {
		return errors.New("give --bucket or --dir")
	}
	switch integrity.LogFileMode(f.logFiles) {
	case integrity.LogFilesNone, integrity.LogFilesSample, integrity.LogFilesAll:
	default:
		return fmt.Errorf("--log-files %q: want none, sample or all", f.logFiles)
	}
	for _, a := range f.accounts {
		if len(a) != 12 || strings.Trim(a, "0123456789") != "" {
			return fmt.Errorf("--account %q is not a 12-digit account id", a)
		}
	}
	for _, t := range f.trails {
		if !logkey.ValidTrailName(t) {
			return fmt.Errorf("--trail %q is not a trail name", t)
		}
	}
	return nil
}

func runIntegrityVerify(ctx context.Context, env *cmdEnv, f *verifyFlags) error {
	start, end, err := f.window.parse(time.Now(), true)
	if err == nil {
		err = f.check()
	}
	if err != nil {
		return usageErrorf("integrity verify: %v", err)
	}
	opts := integrity.Options{Bucket: f.bucket, Prefix: f.prefix, Start: start, End: end,
		Accounts: f.accounts, Regions: f.regions, Trails: f.trails, LogFiles: integrity.LogFileMode(f.logFiles)}
	src, keys, err := openIntegrity(ctx, f, &opts)
	if err != nil {
		return fmt.Errorf("integrity verify: %w", err)
	}
	// The total grows as log files are found: a bar on a terminal only.
	bar := newProgress(env.stderr, 0, "objects verified", true)
	opts.Progress = bar.grow
	rep, err := integrity.Verify(ctx, src, keys, opts)
	bar.done()
	if err != nil {
		return fmt.Errorf("integrity verify: %w", err)
	}
	if f.output == "json" {
		if err := writeJSON(env, rep); err != nil {
			return err
		}
	} else {
		printIntegrity(env.stdout, rep)
	}
	if rep.Failed() {
		return errProblemSilent
	}
	return nil
}

// openIntegrity builds the object source and the key source.
func openIntegrity(ctx context.Context, f *verifyFlags, opts *integrity.Options) (integrity.Source, integrity.KeySource, error) {
	var keys integrity.KeySource
	if f.publicKeys != "" {
		b, err := os.ReadFile(f.publicKeys)
		if err != nil {
			return nil, nil, err
		}
		list, err := integrity.ParsePublicKeys(b)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", f.publicKeys, err)
		}
		keys, opts.KeySourceName = integrity.StaticKeys(list), "file"
	}
	if f.dir != "" && keys != nil {
		return dirSource{dir: f.dir}, keys, nil
	}
	cfg, err := awsenv.Load(ctx, "")
	if err != nil {
		return nil, nil, err
	}
	if keys == nil {
		keys, opts.KeySourceName = cloudTrailKeys{cfg: cfg}, "ListPublicKeys"
	}
	if f.dir != "" {
		return dirSource{dir: f.dir}, keys, nil
	}
	// With the bucket, trails' status is read where access allows (stopped gaps).
	opts.Status = &trailStatuses{cfg: cfg, cache: map[string]*integrity.TrailStatus{}}
	return &bucketSource{API: integrityS3(cfg), Name: f.bucket}, keys, nil
}

// integrityS3 makes the S3 client of verify and mirror (tests replace it).
var integrityS3 = func(cfg aws.Config) s3API { return s3.NewFromConfig(cfg, awsenv.S3Options(cfg)) }

func runIntegrityMirror(ctx context.Context, env *cmdEnv, f *mirrorFlags) error {
	bucket, dir, prefix := f.bucket, f.dir, f.prefix
	start, end, err := f.window.parse(time.Now(), false)
	switch {
	case err != nil:
		return usageErrorf("integrity mirror: %v", err)
	case bucket == "" || dir == "":
		return usageErrorf("integrity mirror: --bucket and --dir are required")
	}
	cfg, err := awsenv.Load(ctx, "")
	if err != nil {
		return fmt.Errorf("integrity mirror: %w", err)
	}
	src := &bucketSource{API: integrityS3(cfg), Name: bucket}
	listPrefix := "AWSLogs/"
	if p := strings.Trim(prefix, "/"); p != "" {
		listPrefix = p + "/AWSLogs/"
	}
	n := 0
	err = src.List(ctx, listPrefix, func(key string) error {
		if !inMirrorWindow(key, start, end) {
			return nil
		}
		n++
		return mirrorObject(ctx, src, dir, key)
	})
	if err != nil {
		return fmt.Errorf("integrity mirror: %w", err)
	}
	fmt.Fprintf(env.stderr, "mirrored %d objects of s3://%s/%s to %s\n", n, bucket, listPrefix, dir)
	return nil
}

// inMirrorWindow keeps CloudTrail objects dated from a day before start to
// an hour after end, and never a key that could leave the directory or
// collide with a metadata file.
func inMirrorWindow(key string, start, end time.Time) bool {
	if strings.Contains("/"+key+"/", "/../") || strings.HasSuffix(key, metadataSuffix) {
		return false
	}
	k, err := logkey.Parse(key)
	if err != nil || k.Kind == logkey.KindMarker {
		return false
	}
	return !k.Time.Before(start.Add(-24*time.Hour)) && !k.Time.After(end.Add(time.Hour))
}

// printIntegrity writes the readable report: problems first, then a summary.
func printIntegrity(w io.Writer, r *integrity.Report) {
	for _, d := range r.Digests {
		if d.Verdict != integrity.Valid {
			fmt.Fprintf(w, "digest\t%s\t%s: %s\n", d.Key, strings.ToUpper(d.Verdict), d.Reason)
		}
	}
	for _, l := range r.LogFiles {
		if l.Verdict == integrity.Invalid || l.Verdict == integrity.Missing || l.Verdict == integrity.Unlisted {
			fmt.Fprintf(w, "log file\t%s\t%s: %s\n", l.Key, strings.ToUpper(l.Verdict), l.Reason)
		}
	}
	for _, g := range r.Gaps {
		fmt.Fprintf(w, "gap\t%s %s %s\t%s to %s\t%s: %s\n", g.Account, g.Region, g.Trail, g.From, g.To, g.Kind, g.Reason)
	}
	s := r.Summary
	fmt.Fprintf(w, "\nWindow %s to %s, keys from %s\n", s.Window.Start, s.Window.End, s.KeySource)
	fmt.Fprintf(w, "digests:   %d valid, %d invalid, %d missing\n", s.Digests[integrity.Valid], s.Digests[integrity.Invalid], s.Digests[integrity.Missing])
	fmt.Fprintf(w, "log files: %d valid, %d invalid, %d missing, %d unlisted, %d skipped\n", s.LogFiles[integrity.Valid],
		s.LogFiles[integrity.Invalid], s.LogFiles[integrity.Missing], s.LogFiles[integrity.Unlisted], s.LogFiles[integrity.Skipped])
	fmt.Fprintf(w, "gaps:      %d missing-digests, %d chain-restart, %d stopped\n", s.Gaps[integrity.GapMissingDigests],
		s.Gaps[integrity.GapChainRestart], s.Gaps[integrity.GapStopped])
	switch {
	case len(r.Digests) == 0:
		fmt.Fprintln(w, "FAILED: no digest found in the window")
	case r.Failed():
		fmt.Fprintln(w, "FAILED")
	default:
		fmt.Fprintln(w, "OK")
	}
}
