package integrity

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/trailwarden/trailwarden/shared/logkey"
)

// Object is a stored object: its bytes as stored (gzipped) and its S3 user
// metadata (names lower case, without the x-amz-meta- prefix).
type Object struct {
	Body     []byte
	Metadata map[string]string
}

// ErrNotFound is returned (wrapped) by Source.Get for a key that does not
// exist. Any other error from a Source (an access denial) aborts Verify:
// it is never taken for a missing object.
var ErrNotFound = errors.New("object not found")

// Source reads a bucket or a mirror of one.
type Source interface {
	// List calls fn for every object key under prefix.
	List(ctx context.Context, prefix string, fn func(key string) error) error
	Get(ctx context.Context, key string) (Object, error)
}

// LogFileMode says which listed log files are read and hashed.
type LogFileMode string

// Log file modes.
const (
	LogFilesNone   LogFileMode = "none"
	LogFilesSample LogFileMode = "sample" // about 1 in 16, chosen by a hash of the key
	LogFilesAll    LogFileMode = "all"
)

// Options scope a Verify run.
type Options struct {
	// Bucket is checked against digestS3Bucket; "" trusts each digest's own.
	Bucket string
	// Prefix is the trails' S3 key prefix ("" for none).
	Prefix string
	// Start and End bound digestEndTime (inclusive).
	Start, End time.Time
	// Accounts, Regions and Trails filter digests (and log files by account
	// and Region); empty means all.
	Accounts, Regions, Trails []string
	LogFiles                  LogFileMode
	// KeySourceName names the key source in the summary.
	KeySourceName string
	// Status, when set, reads trails' status: restarts and silent tails
	// that the trail's StopLogging explains are reported as GapStopped.
	Status StatusReader
	// Progress, when set, is called as objects are read.
	Progress func(done, total int)
}

// scopeKey is one chain: a trail's digests for one account and Region, with
// backfill digests in a chain of their own.
type scopeKey struct {
	prefix, org, account, region, trail, home string
	backfill                                  bool
}

// digestRec is one digest key with what was learnt reading it.
type digestRec struct {
	key      string
	k        logkey.Key
	d        *Digest
	raw      []byte
	hash     string // hex SHA-256 of the uncompressed bytes
	sig      string // signature metadata
	meta     map[string]string
	exists   bool
	report   bool // in the window (a predecessor is read, not reported)
	signed   bool // signature verified with a key valid for it
	verdict  string
	reason   string
	inScope  scopeKey
	readDone bool
}

type run struct {
	src     Source
	keys    KeySource
	opts    Options
	scopes  map[scopeKey][]*digestRec
	byKey   map[string]*digestRec
	logs    map[string]logkey.Key
	rep     Report
	done    int
	total   int
	keyMemo map[string][]PublicKey
	order   []scopeKey // scopes in a stable order
}

// Verify checks every digest whose end time is in [opts.Start, opts.End],
// the chains they form, the digests that should exist, and the log files
// they list. An error means the check could not be made (access, listing);
// findings are in the Report.
func Verify(ctx context.Context, src Source, keys KeySource, opts Options) (*Report, error) {
	if opts.LogFiles == "" {
		opts.LogFiles = LogFilesAll
	}
	opts.Prefix = strings.Trim(opts.Prefix, "/")
	v := &run{src: src, keys: keys, opts: opts, scopes: map[scopeKey][]*digestRec{},
		byKey: map[string]*digestRec{}, logs: map[string]logkey.Key{}, keyMemo: map[string][]PublicKey{}}
	if err := v.list(ctx); err != nil {
		return nil, err
	}
	order := v.selectWindow()
	v.order = order
	for _, sk := range order {
		for _, r := range v.scopes[sk] {
			if r.report || r.readDone {
				if err := v.read(ctx, r); err != nil {
					return nil, err
				}
			}
		}
	}
	for _, sk := range order {
		if err := v.chain(ctx, sk); err != nil {
			return nil, err
		}
	}
	if err := v.logFiles(ctx); err != nil {
		return nil, err
	}
	v.unlisted()
	for _, sk := range order {
		for _, r := range v.scopes[sk] {
			if r.report {
				v.rep.Digests = append(v.rep.Digests, v.result(r))
			}
		}
	}
	v.rep.finish(opts.Start, opts.End, opts.KeySourceName)
	return &v.rep, nil
}

func (v *run) listPrefix() string {
	if v.opts.Prefix == "" {
		return "AWSLogs/"
	}
	return v.opts.Prefix + "/AWSLogs/"
}

func (v *run) list(ctx context.Context) error {
	return v.src.List(ctx, v.listPrefix(), func(key string) error {
		k, err := logkey.Parse(key)
		if err != nil || k.Prefix != v.opts.Prefix || !in(v.opts.Accounts, k.Account) || !in(v.opts.Regions, k.Region) {
			return nil
		}
		switch k.Kind {
		case logkey.KindLog:
			v.logs[key] = k
		case logkey.KindDigest:
			if !in(v.opts.Trails, k.TrailName) {
				return nil
			}
			sk := scopeOf(k)
			r := &digestRec{key: key, k: k, exists: true, inScope: sk}
			v.scopes[sk] = append(v.scopes[sk], r)
			v.byKey[key] = r
		}
		return nil
	})
}

func scopeOf(k logkey.Key) scopeKey {
	return scopeKey{k.Prefix, k.OrgID, k.Account, k.Region, k.TrailName, k.HomeRegion, k.Backfill}
}

func in(set []string, s string) bool { return len(set) == 0 || slices.Contains(set, s) }

// selectWindow marks the digests in the window, and each chain's predecessor of
// the first one, and returns the scopes in a stable order.
func (v *run) selectWindow() []scopeKey {
	var order []scopeKey
	for sk, recs := range v.scopes {
		slices.SortFunc(recs, func(a, b *digestRec) int {
			return cmp.Or(a.k.Time.Compare(b.k.Time), cmp.Compare(a.key, b.key))
		})
		var kept []*digestRec
		for i, r := range recs {
			inWindow := !r.k.Time.Before(v.opts.Start) && !r.k.Time.After(v.opts.End)
			pred := !inWindow && r.k.Time.Before(v.opts.Start) && (i+1 == len(recs) || !recs[i+1].k.Time.Before(v.opts.Start))
			if inWindow || pred {
				r.report = inWindow
				r.readDone = pred // read, not reported
				kept = append(kept, r)
				v.total++
			}
		}
		v.scopes[sk] = kept
		if len(kept) > 0 {
			order = append(order, sk)
		}
	}
	slices.SortFunc(order, func(a, b scopeKey) int {
		return cmp.Or(cmp.Compare(a.prefix, b.prefix), cmp.Compare(a.org, b.org), cmp.Compare(a.account, b.account),
			cmp.Compare(a.region, b.region), cmp.Compare(a.trail, b.trail), cmp.Compare(a.home, b.home),
			cmp.Compare(fmt.Sprint(a.backfill), fmt.Sprint(b.backfill)))
	})
	return order
}

func (v *run) progress() {
	v.done++
	if v.opts.Progress != nil {
		v.opts.Progress(v.done, v.total)
	}
}

func (r *digestRec) fail(verdict, reason string) {
	if r.verdict == "" || r.verdict == Valid {
		r.verdict, r.reason = verdict, reason
	}
}

func (v *run) result(r *digestRec) DigestResult {
	bucket := v.opts.Bucket
	if bucket == "" && r.d != nil {
		bucket = r.d.S3Bucket
	}
	return DigestResult{
		Key: r.key, Bucket: bucket, Account: r.k.Account, Region: r.k.Region, Trail: r.k.TrailName,
		DigestEndTime: r.k.Time.UTC().Format(timeLayout), Backfill: r.k.Backfill,
		Verdict: r.verdict, Reason: r.reason,
	}
}
