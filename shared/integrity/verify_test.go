package integrity_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/trailwarden/trailwarden/internal/cloudtrailsim"
	"github.com/trailwarden/trailwarden/shared/integrity"
)

func gz(t testing.TB, b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

func gunzip(t testing.TB, b []byte) []byte {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func verdicts(r *integrity.Report) (digests, logs map[string]string) {
	digests, logs = map[string]string{}, map[string]string{}
	for _, d := range r.Digests {
		digests[d.Key] = d.Verdict
	}
	for _, l := range r.LogFiles {
		logs[l.Key] = l.Verdict
	}
	return digests, logs
}

func gapKinds(r *integrity.Report) []string {
	var out []string
	for _, g := range r.Gaps {
		out = append(out, g.Kind)
	}
	return out
}

// fixedStatus is every trail's status.
type fixedStatus integrity.TrailStatus

func (f fixedStatus) TrailStatus(context.Context, string, string, string) (integrity.TrailStatus, bool) {
	return integrity.TrailStatus(f), true
}

type scenario struct {
	name   string
	build  func(w *world)
	opts   integrity.Options
	failed bool
	check  func(t *testing.T, w *world, r *integrity.Report)
}

func runScenarios(t *testing.T, tests []scenario) {
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			tc.build(w)
			r := w.verify(tc.opts)
			if r.Failed() != tc.failed {
				t.Errorf("Failed() = %v, want %v; report %+v", r.Failed(), tc.failed, r)
			}
			tc.check(t, w, r)
		})
	}
}

func TestVerifyLogFiles(t *testing.T) {
	runScenarios(t, []scenario{
		{name: "valid chain", build: func(w *world) { w.hours(1, 6) }, check: func(t *testing.T, w *world, r *integrity.Report) {
			if r.Summary.Digests[integrity.Valid] != 6 || r.Summary.LogFiles[integrity.Valid] != 12 || len(r.Gaps) != 0 {
				t.Fatalf("summary %+v gaps %+v", r.Summary, r.Gaps)
			}
		}},
		{name: "deleted log file", failed: true, build: func(w *world) { w.hours(1, 4); w.del(w.logs[2][1]) },
			check: func(t *testing.T, w *world, r *integrity.Report) {
				_, logs := verdicts(r)
				if logs[w.logs[2][1]] != integrity.Missing || r.Summary.LogFiles[integrity.Valid] != 7 {
					t.Fatalf("logs %v", logs)
				}
			}},
		{name: "altered log file", failed: true, build: func(w *world) {
			w.hours(1, 4)
			w.rewrite(w.logs[1][0], func(o integrity.Object) integrity.Object {
				o.Body = gz(t, bytes.Replace(gunzip(t, o.Body), []byte(`"eventName":"`), []byte(`"eventName":"x`), 1))
				return o
			})
		}, check: func(t *testing.T, w *world, r *integrity.Report) {
			if _, logs := verdicts(r); logs[w.logs[1][0]] != integrity.Invalid {
				t.Fatalf("logs %v", logs)
			}
		}},
		{name: "data after the first gzip member", failed: true, build: func(w *world) {
			w.hours(1, 3)
			w.rewrite(w.logs[0][0], func(o integrity.Object) integrity.Object {
				o.Body = append(o.Body, gz(t, []byte(`{"Records":[]}`))...)
				return o
			})
		}, check: func(t *testing.T, w *world, r *integrity.Report) {
			for _, l := range r.LogFiles {
				if l.Key == w.logs[0][0] && (l.Verdict != integrity.Invalid || !strings.Contains(l.Reason, "after the end")) {
					t.Fatalf("%+v", l)
				}
			}
		}},
	})
}

func TestVerifyDigests(t *testing.T) {
	runScenarios(t, []scenario{
		{name: "newest digests deleted", failed: true, build: func(w *world) {
			w.hours(1, 6)
			for _, k := range w.digests[3:] {
				w.del(k)
			}
		}, check: func(t *testing.T, w *world, r *integrity.Report) {
			if len(r.Gaps) != 1 || r.Gaps[0].Kind != integrity.GapMissingDigests || r.Gaps[0].From != hour(3).Format(time.RFC3339) {
				t.Fatalf("gaps %+v", r.Gaps)
			}
		}},
		{name: "consecutive digests deleted mid-chain", failed: true, build: func(w *world) {
			w.hours(1, 6)
			w.del(w.digests[2])
			w.del(w.digests[3])
		}, check: func(t *testing.T, w *world, r *integrity.Report) {
			d, _ := verdicts(r)
			if d[w.digests[3]] != integrity.Missing || len(r.Gaps) != 1 || !strings.Contains(r.Gaps[0].Reason, "about 2 hourly") {
				t.Fatalf("digests %v gaps %+v", d, r.Gaps)
			}
			if r.Gaps[0].From != hour(2).Format(time.RFC3339) || r.Gaps[0].To != hour(4).Format(time.RFC3339) {
				t.Fatalf("gap %+v", r.Gaps[0])
			}
		}},
		{name: "chain restart after StopLogging", build: func(w *world) {
			w.hours(1, 3)
			w.d.RestartChain(acct, region)
			w.hours(6, 7)
		}, opts: integrity.Options{End: hour(7).Add(30 * time.Minute)}, check: func(t *testing.T, w *world, r *integrity.Report) {
			if k := gapKinds(r); len(k) != 1 || k[0] != integrity.GapChainRestart {
				t.Fatalf("gaps %+v", r.Gaps)
			}
		}},
		{name: "chain restart while stopped", build: func(w *world) {
			w.hours(1, 3)
			w.d.RestartChain(acct, region)
			w.hours(6, 7)
		}, opts: integrity.Options{End: hour(7).Add(30 * time.Minute), Status: fixedStatus{StopLoggingTime: hour(3).Add(5 * time.Minute), StartLoggingTime: hour(5).Add(10 * time.Minute), IsLogging: true}},
			check: func(t *testing.T, w *world, r *integrity.Report) {
				if k := gapKinds(r); len(k) != 1 || k[0] != integrity.GapStopped {
					t.Fatalf("gaps %+v", r.Gaps)
				}
			}},
		{name: "silent tail of a stopped trail", build: func(w *world) { w.hours(1, 3) },
			opts: integrity.Options{End: hour(8), Status: fixedStatus{StopLoggingTime: hour(3).Add(5 * time.Minute)}},
			check: func(t *testing.T, w *world, r *integrity.Report) {
				if k := gapKinds(r); len(k) != 1 || k[0] != integrity.GapStopped {
					t.Fatalf("gaps %+v", r.Gaps)
				}
			}},
		{name: "silent tail while the trail logs", failed: true, build: func(w *world) { w.hours(1, 3) },
			opts: integrity.Options{End: hour(8), Status: fixedStatus{IsLogging: true, StopLoggingTime: hour(3).Add(5 * time.Minute)}},
			check: func(t *testing.T, w *world, r *integrity.Report) {
				if k := gapKinds(r); len(k) != 1 || k[0] != integrity.GapMissingDigests {
					t.Fatalf("gaps %+v", r.Gaps)
				}
			}},
		{name: "backfill signed with a later key after rotation", build: func(w *world) {
			ctx := context.Background()
			w.hours(1, 2)
			late, err := w.d.DeliverLogFile(ctx, acct, region, hour(3).Add(-10*time.Minute), 3)
			if err != nil {
				t.Fatal(err)
			}
			w.hours(3, 4)
			if err := w.d.RotateKey(hour(4).Add(time.Minute), signingKeys(t)[1]); err != nil {
				t.Fatal(err)
			}
			w.hours(5, 6)
			// CloudTrail lists the late file in a backfill digest made after
			// the rotation; the regular digest of hour 3 already took it, so
			// deliver the backfill for a file the digest of hour 2 missed.
			_ = late
			if _, err := w.d.DeliverBackfillDigest(ctx, acct, region, hour(2), hour(6).Add(10*time.Minute), []string{w.logs[1][0]}); err != nil {
				t.Fatal(err)
			}
		}, check: func(t *testing.T, w *world, r *integrity.Report) {
			n := 0
			for _, d := range r.Digests {
				if d.Backfill {
					n++
					if d.Verdict != integrity.Valid {
						t.Fatalf("backfill %+v", d)
					}
				}
			}
			if n != 1 || r.Summary.Digests[integrity.Valid] != 7 {
				t.Fatalf("summary %+v", r.Summary)
			}
		}},
	})
}

func TestVerifyUnlistedAndScope(t *testing.T) {
	runScenarios(t, []scenario{
		{name: "unlisted log file", build: func(w *world) {
			w.hours(1, 3)
			extra := strings.Replace(w.logs[1][0], "_CloudTrail_us-east-1_", "_CloudTrail_us-east-1_", 1)
			extra = extra[:len(extra)-len("AAAAAAAAAAAAAAAA.json.gz")] + "ZZZZZZZZZZZZZZZZ.json.gz"
			w.b.objects[extra] = w.b.objects[w.logs[1][0]]
			w.logs = append(w.logs, []string{extra})
		}, check: func(t *testing.T, w *world, r *integrity.Report) {
			if _, logs := verdicts(r); logs[w.logs[3][0]] != integrity.Unlisted {
				t.Fatalf("logs %v", logs)
			}
		}},
		{name: "altered digest", failed: true, build: func(w *world) {
			w.hours(1, 3)
			w.rewrite(w.digests[1], func(o integrity.Object) integrity.Object {
				o.Body = gz(t, bytes.Replace(gunzip(t, o.Body), []byte(`"logFiles":[{`), []byte(`"logFiles":[ {`), 1))
				return o
			})
		}, check: func(t *testing.T, w *world, r *integrity.Report) {
			d, _ := verdicts(r)
			if d[w.digests[1]] != integrity.Invalid || d[w.digests[2]] != integrity.Invalid {
				t.Fatalf("altered digest and its successor's link: %v", d)
			}
		}},
		{name: "moved digest", failed: true, build: func(w *world) {
			w.hours(1, 2)
			moved := strings.Replace(w.digests[1], "T120007Z", "T120008Z", 1)
			w.b.objects[moved] = w.b.objects[w.digests[1]]
			w.digests = append(w.digests, moved)
		}, opts: integrity.Options{End: hour(2).Add(30 * time.Minute)}, check: func(t *testing.T, w *world, r *integrity.Report) {
			for _, d := range r.Digests {
				if d.Key == w.digests[2] && (d.Verdict != integrity.Invalid || !strings.Contains(d.Reason, "moved")) {
					t.Fatalf("%+v", d)
				}
			}
		}},
		{name: "bucket named differs", failed: true, build: func(w *world) { w.hours(1, 2) }, opts: integrity.Options{Bucket: "other"},
			check: func(t *testing.T, w *world, r *integrity.Report) {
				if r.Summary.Digests[integrity.Invalid] != 2 {
					t.Fatalf("%+v", r.Summary)
				}
			}},
		{name: "log files none", build: func(w *world) { w.hours(1, 2) }, opts: integrity.Options{LogFiles: integrity.LogFilesNone},
			check: func(t *testing.T, w *world, r *integrity.Report) {
				if r.Summary.LogFiles[integrity.Skipped] != 4 {
					t.Fatalf("%+v", r.Summary)
				}
			}},
		{name: "filters exclude everything", failed: true, build: func(w *world) { w.hours(1, 2) }, opts: integrity.Options{Regions: []string{"eu-west-1"}},
			check: func(t *testing.T, w *world, r *integrity.Report) {
				if len(r.Digests) != 0 || r.Digests == nil || r.LogFiles == nil || r.Gaps == nil {
					t.Fatalf("%+v", r)
				}
			}},
	})
}

func TestVerifyAccessErrorAborts(t *testing.T) {
	w := newWorld(t)
	w.hours(1, 2)
	w.b.denied[w.logs[0][0]] = true
	_, err := integrity.Verify(context.Background(), w.b, w.keys(), integrity.Options{Start: T0, End: hour(3)})
	if !errors.Is(err, errDenied) {
		t.Fatalf("err = %v, want the access error", err)
	}
}

func TestVerifyUnknownKey(t *testing.T) {
	w := newWorld(t)
	w.hours(1, 2)
	r, err := integrity.Verify(context.Background(), w.b, integrity.StaticKeys{}, integrity.Options{Start: T0, End: hour(2)})
	if err != nil {
		t.Fatal(err)
	}
	if r.Summary.Digests[integrity.Invalid] != 2 || !strings.Contains(r.Digests[0].Reason, "public key not found") {
		t.Fatalf("%+v", r.Digests)
	}
}

// An organization trail with a key prefix: found under the prefix and the
// organization path, and only with the prefix given.
func TestVerifyOrganizationPathAndPrefix(t *testing.T) {
	w := newWorldWith(t, cloudtrailsim.Trail{Name: "org-trail", HomeRegion: region, Bucket: bkt, Prefix: "audit/ct", OrgID: "o-a1b2c3d4e5"})
	w.hours(1, 3)
	if !strings.HasPrefix(w.digests[0], "audit/ct/AWSLogs/o-a1b2c3d4e5/"+acct+"/CloudTrail-Digest/") {
		t.Fatalf("digest key %s", w.digests[0])
	}
	r := w.verify(integrity.Options{Prefix: "audit/ct/"})
	if r.Failed() || r.Summary.Digests[integrity.Valid] != 3 || r.Summary.LogFiles[integrity.Valid] != 6 {
		t.Fatalf("with the prefix: %+v", r.Summary)
	}
	if r := w.verify(integrity.Options{}); len(r.Digests) != 0 || !r.Failed() {
		t.Fatalf("without the prefix: %+v", r.Summary)
	}
	if r := w.verify(integrity.Options{Prefix: "audit/ct", Accounts: []string{"999988887777"}}); len(r.Digests) != 0 {
		t.Fatalf("account filter: %+v", r.Summary)
	}
}
